"""Settings, read once from the environment (prefix JIT_) and then frozen."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIT_", frozen=True, extra="ignore")

    # "production" refuses every demo and test shortcut; "demo" is what `jit demo` sets.
    mode: Literal["production", "demo", "test"] = "production"

    database_url: str = "sqlite://jit.sqlite3"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # AWS. Leave endpoint unset to talk to real AWS with the default credential chain.
    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    sso_instance_arn: str | None = None
    identity_store_id: str | None = None

    # Who is an admin or an auditor: identity store group display names.
    admin_groups: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["jit-admins"])
    auditor_groups: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["jit-auditors"])

    min_duration_seconds: int = 15 * 60
    max_targets: int = 20
    sync_interval: int = 3600

    # How long the worker waits for an asynchronous assignment request to settle.
    assignment_poll_interval: float = 1.0
    assignment_poll_timeout: float = 300.0

    # Reliability (docs/reliability.md). The reconciler runs every reconcile_interval
    # seconds; a job holds a lease on its ticket that lapses job_lease_seconds after its
    # worker stops renewing it, so a killed worker delays a revoke by at most that much.
    reconcile_interval: int = 30
    job_lease_seconds: float = 30.0
    job_timeout: int = 300
    # A revoke that keeps failing is retried with backoff forever; after this many
    # attempts it raises an alert (audit event, counter, GraphQL `revokeAlerts`).
    revoke_alert_attempts: int = 5
    revoke_retry_base_seconds: float = 5.0
    revoke_retry_max_seconds: float = 300.0
    # Drift: assignments no live ticket and no declared standing assignment explains.
    drift_interval: int = 300
    drift_auto_remove: bool = False
    # Standing assignments: inline JSON, or a path to a JSON or YAML file (see docs).
    standing_assignments: str | None = None
    # End open sessions on early revocation with a deny policy (off by default; see docs).
    session_kill: bool = False

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None

    demo_aws_port: int = 4566
    demo_redis_port: int = 6380

    @field_validator("admin_groups", "auditor_groups", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)
