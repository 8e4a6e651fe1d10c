"""The freshness ledger: what the bot keeps of every backup it has seen, and how much of a
period each cluster was within its maximum age."""
