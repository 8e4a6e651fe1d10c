"""The one read a restore drill makes of its cluster's own OpenSearch REST API (``verify:
opensearch``): how many indices the restored cluster holds, ``GET https://<host>:<port>/
_cat/indices?format=json`` with the admin user and the password the drill generated.

The cloud's hosts present certificates of Yandex Cloud's CA: ``ca_file`` names its PEM file
(None: the system's trust store). The password is sent as Basic auth and is never logged or
kept here; errors say the host and the status, never the request's headers.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Sequence

import aiohttp

from bot.errors import CloudError

#: Seconds one host is given to answer.
TIMEOUT = 30.0
ADMIN_USER = "admin"


class VerifyError(CloudError):
    """No host answered the indices, or none answered with a list."""


async def count_indices(
    hosts: Sequence[str],
    *,
    password: str,
    port: int = 9200,
    ca_file: str | None = None,
    seconds: float = TIMEOUT,
) -> int:
    """The number of indices the first host that answers lists (system ones included)."""
    context = ssl.create_default_context(cafile=ca_file)
    token = base64.b64encode(f"{ADMIN_USER}:{password}".encode()).decode("ascii")
    headers = {"Authorization": f"Basic {token}"}
    errors: list[str] = []
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context),
        timeout=aiohttp.ClientTimeout(total=seconds),
    ) as session:
        for host in hosts:
            url = f"https://{host}:{port}/_cat/indices"
            try:
                async with session.get(url, params={"format": "json"}, headers=headers) as answer:
                    if answer.status != 200:
                        errors.append(f"{host}: HTTP {answer.status}")
                        continue
                    body = await answer.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                errors.append(f"{host}: {type(exc).__name__}: {exc}")
                continue
            if not isinstance(body, list):
                errors.append(f"{host}: the answer is not a list of indices")
                continue
            return len(body)
    said = "; ".join(errors[:3]) or "the cluster has no host"
    raise VerifyError(f"no host answered the OpenSearch REST API ({said})")
