"""The OpenSearch REST API of the simulated cloud's restored clusters, as far as a drill's
``verify: opensearch`` reads it: ``GET /_cat/indices?format=json`` over HTTPS on 127.0.0.1, with
the cluster's admin user and the password its restore was given (Basic auth), under a
certificate of a CA made for the run (its file is what ``drills.verify_ca_file`` names).

Which cluster is asked is known by the password (every drill generates its own). A restored
cluster answers as many indices as its backup's ``indicesTotal``, or fewer for a backup marked
short (:meth:`OpenSearchEndpoint.answer_fewer`): a restore that lost data.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class OpenSearchEndpoint:
    """The clusters' shared REST endpoint; one per simulated cloud, started on demand."""

    #: Admin password -> the indices the cluster holds.
    clusters: dict[str, int] = field(default_factory=dict)
    #: Backups whose restored clusters answer fewer indices: backup id -> how many.
    short: dict[str, int] = field(default_factory=dict)
    port: int = 0
    ca_file: Path | None = None
    #: Requests answered (a test counts them).
    asked: int = 0
    _runner: web.AppRunner | None = None
    _dir: tempfile.TemporaryDirectory[str] | None = None

    def restored(self, password: str, backup_id: str, indices: int) -> None:
        """A cluster restored from ``backup_id`` with ``password`` for its admin."""
        self.clusters[password] = self.short.get(backup_id, indices)

    def answer_fewer(self, backup_id: str, indices: int) -> None:
        """Clusters restored from ``backup_id`` from now on hold only ``indices`` indices."""
        self.short[backup_id] = indices

    async def start(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="simcloud-opensearch-")
        where = Path(self._dir.name)
        context = _tls_context(where)
        self.ca_file = where / "ca.pem"
        app = web.Application()
        app.router.add_get("/_cat/indices", self._indices)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    async def _indices(self, request: web.Request) -> web.Response:
        self.asked += 1
        header = request.headers.get("Authorization", "")
        scheme, _sep, value = header.partition(" ")
        try:
            user, _colon, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            user = password = ""
        if scheme != "Basic" or user != "admin" or password not in self.clusters:
            return web.json_response(
                {"error": {"type": "security_exception", "reason": "Unauthorized"}, "status": 401},
                status=401,
            )
        count = self.clusters[password]
        rows = [
            {"health": "green", "status": "open", "index": f"index-{i:04d}", "docs.count": "100"}
            for i in range(count)
        ]
        return web.json_response(rows)


def _tls_context(where: Path) -> ssl.SSLContext:
    """A CA (its certificate in ``where/ca.pem``) and a server certificate for 127.0.0.1."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simcloud test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (where / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (where / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (where / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(where / "server.pem", where / "server.key")
    return context
