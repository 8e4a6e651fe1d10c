"""A simulated Yandex Cloud (Managed OpenSearch, Operation, Resource Manager, IAM, metadata)
on loopback.

Used by the tests, the benchmark and ``backups-bot demo``; also runs standalone with
``python -m bot.demo.simcloud --port 8080``.
"""

from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig, SimServiceAccountKey
from bot.demo.simcloud.encoding import encode_backup, encode_cluster, encode_timestamp
from bot.demo.simcloud.fleet import (
    Fleet,
    SimBackup,
    SimCluster,
    SimFolder,
    SimHost,
    SimResourceCloud,
    SimSchedule,
    demo_fleet,
    generate_fleet,
    new_folder,
)
from bot.demo.simcloud.server import DRILL_LABEL, Fault, SimCloud, SimOperation, SimRequest

__all__ = [
    "DEFAULT_STATIC_TOKEN",
    "DRILL_LABEL",
    "Fault",
    "Fleet",
    "SimBackup",
    "SimCloud",
    "SimCluster",
    "SimConfig",
    "SimFolder",
    "SimHost",
    "SimOperation",
    "SimRequest",
    "SimResourceCloud",
    "SimSchedule",
    "SimServiceAccountKey",
    "demo_fleet",
    "encode_backup",
    "encode_cluster",
    "encode_timestamp",
    "generate_fleet",
    "new_folder",
]
