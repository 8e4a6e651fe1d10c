"""Run the simulated cloud standalone: ``python -m bot.demo.simcloud --port 8080``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot import clock
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import demo_fleet
from bot.demo.simcloud.server import SimCloud


def build_parser() -> argparse.ArgumentParser:
    """The command line of the standalone simulated cloud."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.demo.simcloud",
        description="Run the simulated Yandex Cloud on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated fleet")
    parser.add_argument("--latency", type=float, default=0.0, help="latency per request, in ms")
    parser.add_argument("--error-rate", type=float, default=0.0, help="fraction answered 503")
    parser.add_argument("--folders", type=int, default=0, help="generate this many folders")
    parser.add_argument("--clusters", type=int, default=10, help="clusters per generated folder")
    parser.add_argument("--backups", type=int, default=30, help="backups per generated cluster")
    parser.add_argument("--stale", type=float, default=0.1, help="fraction of stale clusters")
    parser.add_argument(
        "--preencode", action="store_true", help="encode every backup before serving (benchmarks)"
    )
    return parser


async def serve(args: argparse.Namespace) -> None:
    """Start the simulated cloud and run until interrupted."""
    config = SimConfig(
        seed=args.seed,
        latency=args.latency / 1000,
        error_rate=args.error_rate,
        folders=args.folders,
        clusters_per_folder=args.clusters,
        backups_per_cluster=args.backups,
        stale_fraction=args.stale,
    )
    # No --folders: the demo's realistic fleet.
    fleet = None if args.folders else demo_fleet(clock.now())
    sim = SimCloud(config, fleet)
    if args.preencode:
        sim.encode_all()
    url = await sim.start(args.host, args.port)
    print(f"simulated cloud at {url} ({len(sim.fleet.clusters)} clusters)", flush=True)
    for folder in sim.fleet.folders:
        print(f"  folder {folder.id} ({folder.name}, {folder.status})", flush=True)
    for cloud in sim.fleet.clouds:
        print(f"  cloud {cloud.id} ({cloud.name})", flush=True)
    print(
        f"  use YC_MDB_ENDPOINT=YC_OPERATION_ENDPOINT=YC_IAM_ENDPOINT="
        f"YC_RESOURCE_MANAGER_ENDPOINT=YC_VPC_ENDPOINT={url} "
        f"YC_IAM_TOKEN={DEFAULT_STATIC_TOKEN}",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
