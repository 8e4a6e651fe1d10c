"""Knobs of the simulated cloud: size of the generated fleet, latency, failures, credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

#: The token the simulated cloud accepts without an exchange (a demo value, not a secret).
DEFAULT_STATIC_TOKEN = "sim-iam-token"  # noqa: S105


@dataclass(frozen=True)
class SimServiceAccountKey:
    """A service account key the simulated IAM trusts: its account and public key (PEM)."""

    service_account_id: str
    public_key_pem: str


@dataclass(frozen=True)
class SimConfig:
    """How the simulated cloud behaves. Times are seconds unless typed otherwise."""

    seed: int = 1
    #: Added to every request before it is answered.
    latency: float = 0.0
    #: Fraction of API requests answered 503 at random (seeded).
    error_rate: float = 0.0
    #: Every Nth API request starts a burst of ``burst_length`` 429s (0: never).
    burst_every: int = 0
    burst_length: int = 3
    burst_retry_after: int = 1
    #: Size of the generated fleet (ignored when a fleet is given).
    folders: int = 1
    clusters_per_folder: int = 3
    backups_per_cluster: int = 5
    stale_fraction: float = 0.0
    #: Sim time a Cluster.backup operation takes before it is done.
    backup_duration: float = 60.0
    #: Sim time a Cluster.restore takes until the new cluster is RUNNING, and then until its
    #: hosts are ALIVE; a Cluster.delete until the cluster is gone. Minutes in the cloud; tests
    #: and the demo scale them down.
    restore_duration: float = 1200.0
    healthy_after: float = 480.0
    delete_duration: float = 120.0
    #: The most clusters a folder may hold (None: no quota): a restore beyond it is refused as
    #: the cloud refuses it, FAILED_PRECONDITION "Quota limits exceeded".
    cluster_quota: int | None = None
    #: Tokens accepted as is, besides the ones the simulated IAM issues.
    static_tokens: tuple[str, ...] = (DEFAULT_STATIC_TOKEN,)
    #: OAuth tokens the simulated IAM exchanges.
    oauth_tokens: tuple[str, ...] = ()
    #: Service account keys the simulated IAM trusts, by key id.
    service_account_keys: dict[str, SimServiceAccountKey] = field(default_factory=dict)
    iam_token_ttl: timedelta = timedelta(hours=12)
    #: ``expires_in`` of metadata service tokens.
    metadata_token_ttl: int = 3600
    #: Empty pages (with a next page token) served before the first real page of each listing.
    empty_pages: int = 0
    #: The most items a page holds whatever pageSize asks (a server may send fewer than asked;
    #: a token says more follow). None: pageSize decides, up to the API's 1000.
    max_page_size: int | None = None
    #: Add fields the bot does not know, to prove they are ignored.
    unknown_fields: bool = True
    #: Whether the service offers backup retention policies at all (False: every request for
    #: them answers 501, as an API that does not implement them; a cluster whose policies are
    #: None answers 404).
    retention_policies: bool = True
    #: Whether they are also listed by folder (ListByFolder); False: that request answers 501
    #: and the bot reads them per cluster.
    retention_policies_by_folder: bool = True

    # The freedoms the API's contract allows and the real cloud may take (see DESIGN.md). On by
    # default, so that the whole test suite, the benchmarks and the demo meet them; a test that
    # turns one off says why. Every choice is a hash of the seed and the item, never of the
    # order requests arrive in, so runs are reproducible however concurrent.

    #: Listings in no particular order: a shuffle fixed by the seed (stable between the pages
    #: of one listing, as long as nothing is added).
    shuffle: bool = True
    #: Chance that a page comes back empty with a token to go on (at most
    #: ``max_random_empty_pages`` per listing), or that a last page still carries a token.
    empty_page_rate: float = 0.15
    max_random_empty_pages: int = 3
    #: Chance that an item's int64 fields travel as JSON numbers instead of strings.
    int64_number_rate: float = 0.25
    #: Chance that a timestamp with microseconds is written with 9 fractional digits (as a Go
    #: server writes it) instead of protobuf's fewest of 0, 3 or 6.
    nanos_rate: float = 0.3
    #: Chance that a healthy cluster's health is a value from a newer API (``FUTURE_HEALTH``).
    future_enum_rate: float = 0.2
    #: Chance that a cluster's environment and status travel as enum numbers.
    enum_number_rate: float = 0.25
