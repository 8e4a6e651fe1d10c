"""Freshness: how old a cluster's newest backup may be, how old it is, and why it is late."""
