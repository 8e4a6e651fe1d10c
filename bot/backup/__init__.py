"""Backups started on request (a command or an alert's button), followed to their end."""
