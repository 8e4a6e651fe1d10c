"""opensearch-backups-bot: a Slack chat-ops bot for Managed OpenSearch backups in Yandex Cloud."""

__version__ = "0.1.0"
