"""Alerts: a stale cluster pages on-call once, is acknowledged or snoozed, and resolves."""
