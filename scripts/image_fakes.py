"""The world a container's ``serve`` meets in ``make image-test``: the simulated cloud and the
fake Slack, both from the image itself, on the container's own loopback.

Run inside the image (``python /smoke/image_fakes.py /smoke``, scripts/image mounts this file):
it starts the simulated cloud (the demo's fleet) and the fake Slack on fixed loopback ports,
writes the bot's config to ``<dir>/backups-bot.yaml``, prints ``fakes ready``, and serves until
SIGTERM. A second container that shares this one's network namespace runs the image's own
``serve`` against them.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot import clock
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.fleet import demo_fleet
from bot.demo.simcloud.server import SimCloud

#: Ports on the container's loopback; scripts/image points ``serve`` at them.
CLOUD_PORT = 18080
SLACK_PORT = 18081
#: The fake Slack's bot token, which scripts/image hands to ``serve`` too.
BOT_TOKEN = "xoxb-image-test-0000000000"  # noqa: S105 - a fake's fixed token


async def main(directory: Path) -> int:
    """Serve both fakes until SIGTERM or SIGINT."""
    sim = SimCloud(SimConfig(), demo_fleet(clock.now()))
    slack = FakeSlack(bot_token=BOT_TOKEN)
    await sim.start("127.0.0.1", CLOUD_PORT)
    await slack.start("127.0.0.1", SLACK_PORT)
    folders = ", ".join(folder.id for folder in sim.fleet.folders)
    (directory / "backups-bot.yaml").write_text(
        f"watch:\n  folders: [{folders}]\n"
        "alerts:\n  - channel: C0IMAGETEST\n"
        "sweep:\n  every: 15m\n",
        encoding="utf-8",
    )
    print(f"fakes ready: cloud {sim.url}, slack {slack.api_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    posted = len(slack.calls_to("chat.postMessage"))
    print(f"fakes stopping: {len(sim.requests)} cloud requests, {posted} posts", flush=True)
    await slack.stop()
    await sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]))))
