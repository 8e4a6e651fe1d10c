"""``python -m bot.demo.simcloud`` serves the demo fleet on the port it is given."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import aiohttp

from bot.demo.simcloud import DEFAULT_STATIC_TOKEN


async def test_it_runs_standalone_and_answers(unused_tcp_port: int) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.demo.simcloud",
        "--port",
        str(unused_tcp_port),
        "--latency",
        "1",
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert f"127.0.0.1:{unused_tcp_port}" in line
        assert "30 clusters" in line
        folder = (await proc.stdout.readline()).decode().split()[1]
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"http://127.0.0.1:{unused_tcp_port}/managed-opensearch/v1/clusters",
                params={"folderId": folder},
                headers={"Authorization": f"Bearer {DEFAULT_STATIC_TOKEN}"},
            ) as resp,
        ):
            body = await resp.json()
        assert resp.status == 200
        assert len(body["clusters"]) == 10
    finally:
        proc.terminate()
        await proc.wait()
