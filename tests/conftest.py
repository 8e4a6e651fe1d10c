"""Shared fixtures. Network fakes are real servers on 127.0.0.1, never mocks of our code."""

#: The world of the watcher tests (a simulated fleet, the cloud client, a fake Slack, the
#: executor), for every folder of tests.
pytest_plugins = ["tests.world"]
