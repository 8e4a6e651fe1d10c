"""Slack messages built from plain values: Block Kit as dicts, no I/O, no slack_sdk imports.

Tests validate the output against slack_sdk's block models.
"""
