"""Numbers, sizes, durations and times as people read them."""
