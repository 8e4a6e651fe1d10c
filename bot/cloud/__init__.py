"""The Yandex Cloud adapter: REST client, IAM token providers, request limits, input checks,
and the models its answers are read into."""
