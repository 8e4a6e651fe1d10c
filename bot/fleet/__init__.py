"""The fleet: which clusters are watched, how they group, reading them all, finding one by name."""
