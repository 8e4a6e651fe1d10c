"""Process settings from the environment (and an optional ``.env``), with the contract's names.

Built once in the CLI and passed down; nothing imports a global settings object. Secrets are
``SecretStr`` so that a repr, a log line or a validation error never shows them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CONFIG_PATH = Path("./backups-bot.yaml")


def reveal(value: SecretStr | None) -> str:
    """The secret's text, or "" when it is not set: the one place secrets are unwrapped."""
    return value.get_secret_value() if value is not None else ""


class Settings(BaseSettings):
    """Environment variables of the interface contract (../shared/DESIGN.md), plus tunables."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")

    yc_mdb_endpoint: str = Field(
        default="https://mdb.api.cloud.yandex.net", alias="YC_MDB_ENDPOINT"
    )
    yc_iam_endpoint: str = Field(
        default="https://iam.api.cloud.yandex.net", alias="YC_IAM_ENDPOINT"
    )
    yc_operation_endpoint: str = Field(
        default="https://operation.api.cloud.yandex.net", alias="YC_OPERATION_ENDPOINT"
    )
    yc_resource_manager_endpoint: str = Field(
        default="https://resource-manager.api.cloud.yandex.net",
        alias="YC_RESOURCE_MANAGER_ENDPOINT",
    )
    yc_vpc_endpoint: str = Field(
        default="https://vpc.api.cloud.yandex.net", alias="YC_VPC_ENDPOINT"
    )
    yc_iam_token: SecretStr | None = Field(default=None, alias="YC_IAM_TOKEN")
    yc_oauth_token: SecretStr | None = Field(default=None, alias="YC_OAUTH_TOKEN")
    yc_service_account_key_file: Path | None = Field(
        default=None, alias="YC_SERVICE_ACCOUNT_KEY_FILE"
    )
    yc_metadata_url: str = Field(default="http://169.254.169.254", alias="YC_METADATA_URL")

    backups_bot_config: Path | None = Field(default=None, alias="BACKUPS_BOT_CONFIG")
    database_url: str = Field(default="sqlite+aiosqlite:///./backups-bot.db", alias="DATABASE_URL")
    port: int = Field(default=3000, alias="PORT", ge=1, le=65535)

    # Tunables beyond the contract.
    #: Requests to the cloud in flight at once, for the whole process: enough for a burst of
    #: commands from people (bench/bench_slash_commands.py).
    yc_max_in_flight: int = Field(default=64, alias="YC_MAX_IN_FLIGHT", ge=1, le=256)
    #: Of those, at most this many for the scheduled sweep and digests. The cloud's API quotas
    #: are counted per cloud; 16 stays well inside them while keeping a sweep of 1,000 clusters
    #: to a few seconds. Capped at YC_MAX_IN_FLIGHT.
    yc_background_in_flight: int = Field(default=16, alias="YC_BACKGROUND_IN_FLIGHT", ge=1, le=256)
    #: Optional cap on requests per second to the cloud (0: no cap).
    yc_requests_per_second: float = Field(default=0.0, alias="YC_REQUESTS_PER_SECOND", ge=0)
    #: Timeout of one cloud request, in seconds.
    yc_request_timeout: float = Field(default=10.0, alias="YC_REQUEST_TIMEOUT", gt=0)
    #: Base URL of the cloud console, for links in messages.
    yc_console_url: str = Field(default="https://console.yandex.cloud", alias="YC_CONSOLE_URL")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    #: "json", "text", or "auto" (JSON when stderr is not a terminal).
    log_format: str = Field(default="auto", alias="LOG_FORMAT")

    @property
    def socket_mode(self) -> bool:
        """Socket Mode is used exactly when an app-level token is set."""
        return bool(reveal(self.slack_app_token))

    def config_path(self) -> Path | None:
        """The YAML config to read: the variable, else ``./backups-bot.yaml`` if it exists."""
        if self.backups_bot_config is not None:
            return self.backups_bot_config
        return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
