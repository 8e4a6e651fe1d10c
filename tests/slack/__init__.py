"""Tests of the Slack surface: HTTP mode, Socket Mode, the notifier and the fake Slack."""
