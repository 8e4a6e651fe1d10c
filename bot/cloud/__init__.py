"""The Yandex Cloud adapter: REST client (one paging loop), IAM token providers, the one retry
loop, request limits, input checks, what the cloud's error answers mean, and the models its
answers are read into. It imports nothing above it: no feature of the bot."""
