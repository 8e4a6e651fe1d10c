"""The watcher: reading the fleet, the staleness sweep and its alerts, digests on a schedule."""
