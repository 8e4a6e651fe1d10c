"""Delivering the outbox to Slack: the executor and its pacing."""
