"""Strangers at the bot's door, run as a process of their own by
``tests/app/test_serve_under_siege.py``: ``python -m tests.app.strangers PORT COUNT``.

COUNT connections to 127.0.0.1:PORT, half dribbling the headers of a GET a byte a second, half
sending a signed-looking POST to /slack/events whose chunked body never ends (a chunk a second).
As slowloris does, a connection the bot closes is opened again on the next round, two seconds
later (slowloris itself waits 15 s between rounds). Every second a JSON line on stdout says how
many were opened and cut off so far; EOF on stdin ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time

#: Seconds between two bytes of a stranger.
PACE = 1.0
#: Seconds before a stranger the bot cut off connects again.
ROUND = 2.0


class Strangers:
    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = asyncio.Event()
        self.connected = 0
        self.cut_off = 0

    async def hold(self, opening: bytes, dribble: bytes) -> None:
        while not self.stop.is_set():
            writer = None
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.connected += 1
                writer.write(opening)
                while not self.stop.is_set():
                    await writer.drain()
                    try:
                        data = await asyncio.wait_for(reader.read(4096), PACE)
                    except TimeoutError:
                        writer.write(dribble)
                        continue
                    if not data:
                        break  # the bot closed it (after a 408, or without a word)
            except OSError:
                pass
            finally:
                if writer is not None:
                    writer.close()
                    with contextlib.suppress(Exception):
                        await writer.wait_closed()
            self.cut_off += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), ROUND)


def _openings() -> tuple[bytes, bytes]:
    headers = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n"
    chunked = (
        "POST /slack/events HTTP/1.1\r\nHost: bot\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {int(time.time())}\r\n"
        f"X-Slack-Signature: v0={'0' * 64}\r\n\r\n"
        "8\r\ncommand=\r\n"
    ).encode()
    return headers, chunked


async def main(port: int, count: int) -> None:
    strangers = Strangers(port)
    headers, chunked = _openings()
    tasks = [
        asyncio.create_task(
            strangers.hold(chunked, b"1\r\nx\r\n") if n % 2 else strangers.hold(headers, b"X")
        )
        for n in range(count)
    ]
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    while not stdin_closed.done():
        print(json.dumps({"connected": strangers.connected, "cut_off": strangers.cut_off}))
        sys.stdout.flush()
        await asyncio.wait({stdin_closed}, timeout=PACE)
    strangers.stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
