"""Operations plumbing: Prometheus metrics, structured logging with redaction, health endpoints,
and the table of Slack scopes the code needs."""
