"""The /backups command: its grammar, who may run what, rate limits, the router and its replies."""
