"""The same loopback servers as the Slack tests."""

from tests.slack.conftest import fake_slack, sim

__all__ = ["fake_slack", "sim"]
