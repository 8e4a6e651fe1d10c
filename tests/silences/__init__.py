"""Silences: sets of clusters not paged for a while."""
