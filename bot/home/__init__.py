"""The bot's Home tab in Slack: what one person on call wants to see when they open the app."""
