"""Shared fixtures. Network fakes are real servers on 127.0.0.1, never mocks of our code."""

from hypothesis import HealthCheck, settings

#: The world of the watcher tests (a simulated fleet, the cloud client, a fake Slack, the
#: executor), for every folder of tests.
pytest_plugins = ["tests.world"]


#: Property tests assert behaviour, never time: hypothesis's default 200 ms deadline per example
#: failed `test_the_answer_does_not_depend_on_the_order_the_cloud_lists_them` (333 ms once, 5 ms
#: on the rerun) on a machine at load 12, and its too-slow health check does the same under load.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")
