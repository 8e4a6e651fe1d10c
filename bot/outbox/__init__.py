"""The outbox: posts committed with the state they follow from, delivered once at Slack's pace."""
