"""Silences: sets of clusters, written as the config's match, that are not paged for a while."""
