"""The daily digest: every watched cluster's freshness, what changed since yesterday."""
