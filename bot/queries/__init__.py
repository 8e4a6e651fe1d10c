"""What people ask to see: a cluster's backups, one backup, a folder, the clusters and their
status."""
