"""What became of a backup someone started."""

from __future__ import annotations

import enum


class OperationOutcome(enum.StrEnum):
    """What became of a backup someone started from Slack."""

    DONE = "done"
    FAILED = "failed"
    GAVE_UP = "gave_up"  # still running when the bot stopped following it
    UNKNOWN = "unknown"  # the cloud no longer knows the operation
