"""Settings, read once from the environment (prefix JIT_) and then frozen."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
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

    # Changes to approval rules scoped to these OUs (ids or name paths, nested OUs included)
    # take effect only once a second admin approves them.
    rule_change_approval_ous: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # How long before a ticket's approval window closes its pending approvers are reminded.
    approval_reminder_before_seconds: int = 3600

    min_duration_seconds: int = 15 * 60
    # Targets per ticket (an OU counts its accounts). A ticket's targets are revoked
    # together: 100 is about 18 s of the cluster's AWS budget (~5.6 revokes/s, see
    # docs/performance.md, "The physical limit"), well inside revoke_plan_horizon_seconds.
    max_targets: int = 100
    sync_interval: int = 3600

    # Polling an assignment request: the worker learns how long AWS takes to settle one
    # (jit.aws.assignments.SettleTime) and looks about then. assignment_first_poll is where
    # that estimate starts, assignment_poll_interval the shortest gap between two looks.
    assignment_poll_interval: float = 0.25
    assignment_first_poll: float = 1.0
    # How often an idle worker asks Redis for due jobs; it bounds the queue's share of grant
    # latency (arq's default is 0.5 s). Polling costs one Redis round trip.
    queue_poll_delay: float = 0.05
    assignment_poll_timeout: float = 300.0

    # AWS's quota (docs/performance.md): IAM Identity Center's account access API allows 20
    # calls per second and 15 outstanding creates/deletes per instance, for every tool that
    # uses it. JIT's whole cluster keeps below both (Redis-shared), leaving headroom.
    aws_rate_limit: float = 18.0
    aws_max_outstanding: int = 14
    # A revoke starts this much before its end time at least, so the delete settles by then
    # (the worker also learns how long AWS takes, and starts earlier still in a burst).
    revoke_lead_seconds: float = 4.0
    # How far ahead the worker plans revokes against the budget.
    revoke_plan_horizon_seconds: int = 900

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
    # A scan spreads its AWS calls over this fraction of drift_interval instead of
    # spending them in one burst (0: as fast as the AWS budget allows, at read priority).
    drift_scan_spread: float = Field(default=0.5, ge=0.0, le=1.0)
    # Standing assignments: inline JSON, or a path to a JSON or YAML file (see docs).
    standing_assignments: str | None = None
    # End open sessions on early revocation with a deny policy (off by default; see docs).
    session_kill: bool = False

    # Notifications (docs/notifications.md). The worker delivers the outbox every
    # notify_interval seconds, retrying a failed delivery with backoff until it succeeds.
    notify_interval: int = 5
    # A worker owns the deliveries it claimed this long; keep it above twice the send
    # timeout, or a hung channel's messages may be sent twice.
    notify_lease_seconds: float = 60.0
    notify_retry_base_seconds: float = 5.0
    notify_retry_max_seconds: float = 900.0
    notify_send_timeout: float = 10.0
    # Access holders are told this long before their ticket ends.
    notify_expiring_soon_seconds: int = 15 * 60
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "jit@localhost"
    # "starttls" upgrades a plain connection, "tls" connects over TLS (port 465), "none" neither.
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    slack_token: str | None = None
    # Unset means Slack itself; a test or a proxy sets its own Web API address.
    slack_base_url: str | None = None
    slack_audit_channel: str | None = None
    # Interactive Slack (docs/notifications.md, "Interactive Slack"): Approve/Reject buttons,
    # the /jit command and messages kept up to date. Off unless asked for, and then only with
    # the app's signing secret: /slack/* answers 404 while either is missing.
    slack_interactive: bool = False
    slack_signing_secret: str | None = None
    # How long a Slack user's email (users.info) is cached.
    slack_user_cache_seconds: int = 600
    # Generic webhooks (Teams, PagerDuty, a SIEM...): each receives every notification,
    # signed with HMAC-SHA256 of "<timestamp>.<body>" under notify_webhook_secret.
    notify_webhook_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    notify_webhook_secret: str | None = None
    # Audit log (docs/audit.md). Events older than this many days are pruned daily by the
    # worker, behind a checkpoint that keeps the chain verifiable; unset keeps everything.
    audit_retention_days: int | None = None
    # Session activity: where a ticket's CloudTrail activity is read from.
    # lookup_events | lake | logs_insights
    activity_source: Literal["lookup_events", "lake", "logs_insights"] = "lookup_events"
    # lookup_events: the read-only role assumed in each granted account (it needs
    # cloudtrail:LookupEvents), and the region(s) whose trails are read.
    activity_role_name: str = "JitActivityReader"
    activity_regions: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # lake: the event data store of an organization trail.
    activity_lake_event_data_store: str | None = None
    # logs_insights: the log group an organization trail delivers to.
    activity_log_group: str | None = None
    # Endpoints, for CloudTrail- and Logs-compatible services (tests); unset is real AWS.
    activity_cloudtrail_endpoint_url: str | None = None
    activity_logs_endpoint_url: str | None = None
    activity_sts_endpoint_url: str | None = None
    # How late CloudTrail may deliver an event (typically within 5 minutes, up to 15): a
    # ticket's activity is complete only this long after its window ends.
    activity_delivery_delay_seconds: int = 900

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    # The built console (frontend/dist); unset means the one beside the source tree.
    console_dir: str | None = None

    demo_aws_port: int = 4566
    demo_redis_port: int = 6380

    # Sign-in and API security (docs/security.md).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email profile"
    # The claim matched against the directory: "email" or "preferred_username" (user name).
    oidc_user_claim: Literal["email", "preferred_username"] = "email"
    # Groups come from the directory; set this to take them from the ID token's claim instead.
    oidc_groups_from_token: bool = False
    oidc_groups_claim: str = "groups"
    session_idle_timeout: int = 30 * 60
    session_absolute_timeout: int = 12 * 3600
    token_max_days: int = 365

    graphql_introspection: bool | None = None  # None: on unless mode is production
    # "Did you mean 'ticket'?" in errors; None: on unless mode is production (they spell
    # out the schema that introspection being off hides).
    graphql_suggestions: bool | None = None
    graphql_max_depth: int = 12
    graphql_max_tokens: int = 2000
    graphql_max_aliases: int = 30
    # Cost: every field one node, times the page size (first/last) of each connection and
    # graphql_cost_list_size for any other list around it (jit/graphql/limits.py).
    graphql_max_cost: int = 60000
    graphql_cost_list_size: int = 5
    # A query running longer is stopped (0: never); mutations are left to finish.
    graphql_timeout_seconds: float = 10.0
    max_body_bytes: int = 256 * 1024
    # JSON request bodies nested deeper than this are refused with 400.
    max_json_depth: int = 32
    mutation_rate_limit: int = 60  # mutations per user in any window
    mutation_rate_window: int = 60  # seconds, sliding
    ws_connection_init_timeout: float = 10.0
    ws_max_subscriptions: int = 20
    # How often an open websocket re-checks that its token or session is still valid.
    ws_recheck_interval: float = 30.0
    # Credentials (docs/security.md): open sockets per user per replica; frame sizes before
    # and after connection_init is acknowledged; how long a socket's credential check is
    # trusted between revocation messages (jit.auth.live).
    ws_max_connections_per_user: int = 10
    ws_max_frame_bytes_before_init: int = 4096
    ws_max_frame_bytes: int = 256 * 1024
    ws_credential_cache_seconds: float = 5.0
    # Time bounds: the longest delegation, and how far ahead a ticket may start.
    delegation_max_days: int = 90
    ticket_max_lead_days: int = 30

    # Operations (docs/deploy.md). Logs: "text" for people, "json" for a log pipeline.
    log_format: Literal["text", "json"] = "text"
    # The root log level (DEBUG, INFO, WARNING, ...; any case).
    log_level: str = "INFO"
    # With a token set, /metrics wants it as a bearer token. Unset, /metrics answers 404 in
    # production, and anyone who reaches the port may scrape in demo and test modes.
    metrics_token: str | None = None
    # The worker's own /metrics (grant and revoke latency, AWS errors, jobs): off unless set.
    worker_metrics_port: int | None = None
    worker_metrics_host: str = "127.0.0.1"
    # On SIGTERM the worker takes no new jobs and lets running ones finish for this long;
    # the API lets open requests finish for as long. Keep it under the orchestrator's own
    # grace period (Kubernetes terminationGracePeriodSeconds, compose stop_grace_period).
    shutdown_grace_seconds: int = 60
    # /readyz reaches AWS at most this often per replica.
    readyz_aws_cache_seconds: float = 30.0

    @field_validator("aws_rate_limit")
    @classmethod
    def _rate(cls, value: float, info: ValidationInfo) -> float:
        if not value > 0:
            raise ValueError("JIT_AWS_RATE_LIMIT must be above 0 (AWS allows 20 calls per second per instance)")
        return value

    @field_validator("aws_max_outstanding")
    @classmethod
    def _outstanding(cls, value: int) -> int:
        if not 0 < value <= 15:
            raise ValueError("JIT_AWS_MAX_OUTSTANDING must be 1 to 15 (AWS allows 15 outstanding creates and "
                             "deletes per instance, and will not raise it)")
        return value

    @model_validator(mode="after")
    def _rate_within_aws(self) -> Settings:
        # moto and the test proxy can go faster; real AWS cannot.
        if self.mode == "production" and self.aws_rate_limit > 20:
            raise ValueError("JIT_AWS_RATE_LIMIT must be at most 20: IAM Identity Center allows 20 calls per "
                             "second per instance, shared by every tool")
        return self

    @field_validator("admin_groups", "auditor_groups", "rule_change_approval_ous", "notify_webhook_urls", "activity_regions", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def console_url(self, path: str = "") -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    @property
    def introspection_enabled(self) -> bool:
        if self.graphql_introspection is not None:
            return self.graphql_introspection
        return self.mode != "production"

    @property
    def suggestions_enabled(self) -> bool:
        if self.graphql_suggestions is not None:
            return self.graphql_suggestions
        return self.mode != "production"

    @property
    def metrics_open(self) -> bool:
        """Whether /metrics is served at all (with JIT_METRICS_TOKEN, to its bearer only)."""
        return self.metrics_token is not None or self.mode != "production"

    @property
    def slack_interactive_enabled(self) -> bool:
        """Whether /slack/* is served: asked for, with a signing secret and a bot token."""
        return self.slack_interactive and bool(self.slack_signing_secret) and bool(self.slack_token)

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


# JIT_ variables that are not settings: the client's (jit/client/config.py), what `jit
# request --exec` sets for its command, `make cluster`'s, and the tests'.
OTHER_VARIABLES = frozenset({
    "JIT_SERVER", "JIT_TOKEN", "JIT_CONFIG_DIR", "JIT_CLIENT_RETRY_DELAYS",
    "JIT_TICKET_ID", "JIT_TICKET_END_AT", "JIT_ACCOUNT_ID", "JIT_ACCOUNT_NAME", "JIT_PERMISSION_SET",
    "JIT_CLUSTER_PG_ADMIN_URL", "JIT_CLUSTER_DATABASE", "JIT_CLUSTER_PORT", "JIT_LIVE_LOG_DIR",
})
OTHER_PREFIXES = ("JIT_TEST_",)


def known_variables() -> frozenset[str]:
    return frozenset("JIT_" + name.upper() for name in Settings.model_fields) | OTHER_VARIABLES


def unknown_variables(environ: dict[str, str]) -> list[tuple[str, str | None]]:
    """Each JIT_ variable that no setting reads, with the nearest known one (a misspelling
    such as JIT_DRIFT_AUTOREMOVE is otherwise ignored without a word)."""
    import difflib

    known = known_variables()
    out = []
    for name in sorted(environ):
        if not name.startswith("JIT_") or name in known or name.startswith(OTHER_PREFIXES):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        out.append((name, close[0] if close else None))
    return out


def unknown_variable_warnings(environ: dict[str, str]) -> list[str]:
    return [f"warning: {name} is not a JIT setting and is ignored" + (f"; did you mean {near}?" if near else "")
            for name, near in unknown_variables(environ)]
