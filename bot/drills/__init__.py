"""Restore drills: prove on a schedule that a backup restores, how long it takes, and leave
nothing running."""
