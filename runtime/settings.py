"""The one settings object: everything voxflow reads from the environment.

Every process (worker, API, CLI, studio) builds ``Settings`` once at start-up with
``load_settings()``. Field errors and cross-field problems are collected and raised together as
one ``SettingsError`` naming each environment variable, so an operator fixes a deployment in
one pass. ``Settings.require(...)`` does the same for what a given command needs (a worker that
dials Asterisk needs the AMI credentials; the embedded demo needs none of them).

Each field is read from the environment variable named by its alias (``DATABASE_URL``,
``TEMPORAL_ADDRESS``...); ``env_names()`` lists them (docker-compose.yml may pass nothing else).
``None`` means "embedded": no ``DATABASE_URL`` starts the embedded PostgreSQL under the state
directory, no ``TEMPORAL_ADDRESS`` starts the Temporal dev server, no ``AMI_HOST`` uses the
simulated PBX. Secrets are ``SecretStr``: their ``repr`` and ``str`` are masked, so logging
the settings object never leaks them.
"""

from __future__ import annotations

import hmac
import importlib.util
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from runtime.destinations import DEFAULT_BLOCKED
from runtime.tenancy import DEFAULT_TENANT, check_id


class Role(StrEnum):
    """What an API key may do. ``admin`` may do everything."""

    ADMIN = "admin"
    DESIGNER = "designer"
    """Flows: create campaigns from flows, read calls and transcripts."""
    OPERATOR = "operator"
    """Campaign control: start, pause, resume, stop, import contacts, do-not-call list."""


class ApiKey(BaseModel, frozen=True):
    role: Role
    key: SecretStr


class InboundRoute(BaseModel, frozen=True):
    """Inbound calls to ``number`` (the dialled number, DID) run the flow in ``flow``, for
    ``tenant``: the call's rows, workflow and webhooks are that tenant's."""

    number: str
    flow: Path
    tenant: str = DEFAULT_TENANT

    @field_validator("tenant")
    @classmethod
    def _tenant_id(cls, value: str) -> str:
        return check_id(value)

    @property
    def key(self) -> str:
        """``number`` as Asterisk's ``Exten`` carries it in the inbound context (no ``+``)."""
        return self.number.removeprefix("+")


@dataclass(frozen=True)
class SettingProblem:
    env: str
    """The environment variable to fix."""
    message: str


class SettingsError(Exception):
    """Every problem of the configuration at once."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p.env}: {p.message}" for p in self.problems)
        super().__init__(f"invalid configuration ({len(self.problems)} problem(s)):\n{lines}")


def _env(name: str, **kwargs: Any) -> Any:
    return Field(validation_alias=name, **kwargs)


class Settings(BaseSettings):
    """voxflow's configuration. Build it with ``load_settings()``."""

    model_config = SettingsConfigDict(
        frozen=True,
        populate_by_name=True,
        env_ignore_empty=True,
        case_sensitive=False,
        extra="ignore",
    )

    # --- local state -----------------------------------------------------------------------
    state_dir: Path = _env("VOXFLOW_STATE_DIR", default=Path(".voxflow"))
    """Embedded PostgreSQL data (``pg/``), the Temporal dev server's SQLite file, logs."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _env(
        "VOXFLOW_LOG_LEVEL", default="INFO"
    )

    # --- Temporal --------------------------------------------------------------------------
    temporal_address: str | None = _env("TEMPORAL_ADDRESS", default=None)
    """``host:port`` of a Temporal frontend; ``None`` = the embedded dev server."""
    temporal_namespace: str = _env("TEMPORAL_NAMESPACE", default="default")
    temporal_tls: bool = _env("TEMPORAL_TLS", default=False)
    temporal_api_key: SecretStr | None = _env("TEMPORAL_API_KEY", default=None)
    task_queue: str = _env("VOXFLOW_TASK_QUEUE", default="voxflow")

    # --- PostgreSQL ------------------------------------------------------------------------
    database_url: SecretStr | None = _env("DATABASE_URL", default=None)
    """``postgresql://user:pass@host:port/db``; ``None`` = embedded PostgreSQL."""
    database_pool_max: int = _env("VOXFLOW_DB_POOL_MAX", default=10, ge=1)

    # --- Asterisk --------------------------------------------------------------------------
    ami_host: str | None = _env("AMI_HOST", default=None)
    """Asterisk Manager Interface host; ``None`` = the simulated PBX."""
    pbx_lines: int | None = _env("VOXFLOW_PBX_LINES", default=None, ge=1)
    """Lines of the PBX that every tenant's campaigns share, counted in PostgreSQL across all
    the processes dialling through it (fairly: docs/tenancy.md); unset: the PBX's own limit is
    the only one. ``VOXFLOW_MAX_CALLS`` caps one process; this caps the PBX."""
    ami_port: int = _env("AMI_PORT", default=5038, ge=1, le=65535)
    ami_username: str | None = _env("AMI_USERNAME", default=None)
    ami_secret: SecretStr | None = _env("AMI_SECRET", default=None)
    audiosocket_host: str = _env("AUDIOSOCKET_HOST", default="127.0.0.1")
    """Address the AudioSocket server binds."""
    audiosocket_port: int = _env("AUDIOSOCKET_PORT", default=9092, ge=0, le=65535)
    audiosocket_advertised: str | None = _env("AUDIOSOCKET_ADVERTISED_ADDRESS", default=None)
    """``host:port`` Asterisk connects to (differs from the bind address behind NAT/compose)."""
    max_calls: int = _env("VOXFLOW_MAX_CALLS", default=50, ge=1)
    """Calls (dials and conversations) one worker process runs at once: its share of its
    PBX's lines. Several processes beside one Asterisk split its line limit between them."""
    max_cached_workflows: int = _env("VOXFLOW_MAX_CACHED_WORKFLOWS", default=1000, ge=0)
    """Workflow runs one worker process keeps in memory between their tasks (Temporal's sticky
    cache, the SDK's ``max_cached_workflows``): a run that is not cached is replayed from its
    history on its next task. Running runs (a campaign and its live contacts) need a slot
    each; the bound on this cache's memory is this number times a cached run's size
    (``bench/README.md``, "Soak"). 0 turns the cache off."""
    event_loop: Literal["auto", "uvloop", "asyncio"] = _env("VOXFLOW_EVENT_LOOP", default="auto")
    """The worker's event loop (``runtime/eventloop.py``): ``auto`` = uvloop when installed."""

    # --- AI providers ----------------------------------------------------------------------
    openai_api_key: SecretStr | None = _env("OPENAI_API_KEY", default=None)
    openai_base_url: str | None = _env("OPENAI_BASE_URL", default=None)
    openai_realtime_model: str = _env("OPENAI_REALTIME_MODEL", default="gpt-realtime")
    openai_embedding_model: str = _env("OPENAI_EMBEDDING_MODEL", default="text-embedding-3-small")
    openai_append_ms: int = _env("VOXFLOW_OPENAI_APPEND_MS", default=40)
    """Caller audio per OpenAI Realtime ``input_audio_buffer.append``, in ms (20-200, in steps
    of 20: whole line frames). More costs less CPU per call and adds latency: the provider
    hears the first frame of each message this much minus 20 ms later (README.md, "Capacity
    planning")."""
    ultravox_api_key: SecretStr | None = _env("ULTRAVOX_API_KEY", default=None)
    ultravox_base_url: str = _env("ULTRAVOX_BASE_URL", default="https://api.ultravox.ai/api")
    embeddings: Literal["auto", "local", "openai"] = _env("VOXFLOW_EMBEDDINGS", default="auto")
    """``auto`` = OpenAI embeddings when ``OPENAI_API_KEY`` is set, the offline model otherwise."""
    provider_healthy_after_s: float = _env("VOXFLOW_PROVIDER_HEALTHY_AFTER", default=10.0, ge=0)
    """Seconds a provider session must live before the circuit breaker counts it a success
    (one that dies sooner counts as a failure)."""
    provider_breaker_failures: int = _env("VOXFLOW_PROVIDER_BREAKER_FAILURES", default=3, ge=1)
    """Failures in a row that open a provider's circuit breaker."""

    # --- REST API --------------------------------------------------------------------------
    api_host: str = _env("VOXFLOW_API_HOST", default="127.0.0.1")
    api_port: int = _env("VOXFLOW_API_PORT", default=8000, ge=0, le=65535)
    api_url: str | None = _env("VOXFLOW_API_URL", default=None)
    """Where clients (studio, CLI) reach the API; default ``http://api_host:api_port``."""
    api_keys: Annotated[tuple[ApiKey, ...], NoDecode] = _env("VOXFLOW_API_KEYS", default=())
    """``role:key`` pairs separated by commas, e.g. ``admin:s3cret,operator:0ther``."""

    # --- studio ----------------------------------------------------------------------------
    studio_flows_dir: Path = _env("VOXFLOW_STUDIO_FLOWS", default=Path("flows"))
    """Folder of flow files the studio's Flows page browses."""
    studio_temporal_ui: str | None = _env("VOXFLOW_STUDIO_TEMPORAL_UI", default=None)
    """Temporal web UI base URL the studio links to, as the browser reaches it."""

    # --- call recordings -------------------------------------------------------------------
    recording: bool = _env("VOXFLOW_RECORDING", default=True)
    """Record both legs of every call to a stereo WAV (left: caller, right: agent)."""
    recordings_dir_setting: Path | None = _env("VOXFLOW_RECORDINGS_DIR", default=None)
    """Where recordings are written and served from; default ``<state dir>/recordings``.
    Workers and the API must see the same files (a shared volume in production)."""
    sim_scenarios: Path | None = _env("VOXFLOW_SIM_SCENARIOS", default=None)
    """The simulated PBX's scenarios file (YAML/JSON), when the stack runs the simulated PBX."""

    # --- inbound calls ---------------------------------------------------------------------
    inbound_flow: Path | None = _env("VOXFLOW_INBOUND_FLOW", default=None)
    """Flow file inbound calls run (compiled when a worker starts); unset: they are hung up."""
    inbound_routes: Annotated[tuple[InboundRoute, ...], NoDecode] = _env(
        "VOXFLOW_INBOUND_ROUTES", default=()
    )
    """``number=flow`` pairs separated by commas: calls to that dialled number run that flow
    file instead of ``VOXFLOW_INBOUND_FLOW``, e.g. ``+15550100=flows/support.flow.yaml``.
    ``number@tenant=flow`` gives the number to a tenant (``+15550100@acme=...``): its calls
    run and are stored as that tenant's; other numbers are the default tenant's."""

    # --- dial destinations (runtime/destinations.py) ------------------------------------------
    dial_blocked_types: Annotated[tuple[str, ...], NoDecode] = _env(
        "VOXFLOW_DIAL_BLOCKED_TYPES",
        default=DEFAULT_BLOCKED,
    )
    """Number types never dialled, comma-separated (libphonenumber's, plus ``non_geographic``
    for satellite and international networks)."""
    dial_countries: Annotated[tuple[str, ...], NoDecode] = _env(
        "VOXFLOW_DIAL_COUNTRIES", default=()
    )
    """ISO country codes that may be dialled, e.g. ``US,CA``; empty: every country."""
    dial_allowlist: Annotated[tuple[str, ...], NoDecode] = _env(
        "VOXFLOW_DIAL_ALLOWLIST", default=()
    )
    """E.164 numbers always dialled whatever their type or country, and the only real numbers
    a ``designer`` key may test-call (besides the simulated PBX's callees)."""

    # --- observability (runtime/observability/, docs/observability.md) ---------------------
    metrics: bool = _env("VOXFLOW_METRICS", default=False)
    """Prometheus metrics: the worker serves them on ``VOXFLOW_METRICS_PORT``, the API at
    ``/metrics``; off by default."""
    metrics_host: str = _env("VOXFLOW_METRICS_HOST", default="127.0.0.1")
    """Address the worker's metrics endpoints bind (its own and the Temporal SDK's)."""
    metrics_port: int = _env("VOXFLOW_METRICS_PORT", default=9464, ge=0, le=65535)
    temporal_metrics_port: int = _env("VOXFLOW_TEMPORAL_METRICS_PORT", default=9465, ge=0, le=65535)
    """The Temporal SDK's own metrics (``temporal_*``) from the worker; 0 leaves them off."""
    tracing: Literal["off", "console", "otlp"] = _env("VOXFLOW_TRACING", default="off")
    """OpenTelemetry spans: ``console`` prints them, ``otlp`` exports them (the
    ``opentelemetry-exporter-otlp-proto-http`` package) to ``VOXFLOW_OTLP_ENDPOINT``."""
    otlp_endpoint: str | None = _env("VOXFLOW_OTLP_ENDPOINT", default=None)
    """OTLP/HTTP traces URL, e.g. ``http://jaeger:4318/v1/traces``."""
    log_format: Literal["text", "json"] = _env("VOXFLOW_LOG_FORMAT", default="text")
    """``json``: one JSON object a line, with the call's attempt id, campaign, flow hash and
    tenant on every line about a call."""

    # --- webhooks --------------------------------------------------------------------------
    webhook_url: str | None = _env("VOXFLOW_WEBHOOK_URL", default=None)
    webhook_secret: SecretStr | None = _env("VOXFLOW_WEBHOOK_SECRET", default=None)
    """HMAC-SHA256 key that signs every webhook body (the default tenant's endpoint)."""
    webhook_dispatch: bool = _env("VOXFLOW_WEBHOOK_DISPATCH", default=True)
    """Run the webhook dispatcher in this process (worker and API); any number may run."""
    webhook_allow_private: bool = _env("VOXFLOW_WEBHOOK_ALLOW_PRIVATE", default=False)
    """Allow endpoints on link-local (metadata), private and reserved addresses."""
    webhook_max_attempts: int = _env("VOXFLOW_WEBHOOK_MAX_ATTEMPTS", default=8, ge=1, le=50)
    """Attempts of one delivery before it is dead-lettered."""
    webhook_backoff_s: float = _env("VOXFLOW_WEBHOOK_BACKOFF_S", default=10.0, gt=0, le=3600)
    """Wait before the first retry; each further retry waits twice as long (at most an hour)."""
    webhook_timeout_s: float = _env("VOXFLOW_WEBHOOK_TIMEOUT_S", default=10.0, gt=0, le=120)
    """How long one delivery may take before it counts as failed."""
    webhook_concurrency: int = _env("VOXFLOW_WEBHOOK_CONCURRENCY", default=2, ge=1, le=32)
    """Deliveries one process sends at once (each holds a pooled connection meanwhile)."""
    webhook_retention_days: float = _env(
        "VOXFLOW_WEBHOOK_RETENTION_DAYS", default=7.0, gt=0, le=3650
    )
    """Delivered deliveries older than this are deleted, and so are events none is left of."""
    webhook_dead_retention_days: float = _env(
        "VOXFLOW_WEBHOOK_DEAD_RETENTION_DAYS", default=30.0, gt=0, le=3650
    )
    """Dead letters not redelivered are kept this long after their last attempt."""
    webhook_prune_every_s: float = _env(
        "VOXFLOW_WEBHOOK_PRUNE_EVERY_S", default=600.0, gt=0, le=86_400
    )
    """How often each dispatcher deletes what retention no longer keeps (in small batches)."""

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_api_keys(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        keys = []
        for i, item in enumerate(filter(None, (p.strip() for p in value.split(","))), 1):
            role, sep, key = item.partition(":")
            if not sep or not key.strip():
                raise ValueError(f"entry {i} is not 'role:key' (roles: admin, designer, operator)")
            keys.append({"role": role.strip(), "key": key.strip()})
        return keys

    @field_validator("api_keys")
    @classmethod
    def _unique_keys(cls, value: tuple[ApiKey, ...]) -> tuple[ApiKey, ...]:
        secrets = [k.key.get_secret_value() for k in value]
        if len(set(secrets)) != len(secrets):
            raise ValueError("the same key is listed twice; give each role its own key")
        return value

    @field_validator("inbound_routes", mode="before")
    @classmethod
    def _parse_inbound_routes(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        routes = []
        for i, item in enumerate(filter(None, (p.strip() for p in value.split(","))), 1):
            target, sep, flow = item.partition("=")
            if not sep or not flow.strip():
                raise ValueError(f"entry {i} is not 'number=flow file' (or 'number@tenant=...')")
            number, at, tenant = target.strip().partition("@")
            route = {"number": number.strip(), "flow": flow.strip()}
            if at:
                route["tenant"] = tenant.strip()
            routes.append(route)
        return routes

    @field_validator("inbound_routes")
    @classmethod
    def _valid_inbound_numbers(cls, value: tuple[InboundRoute, ...]) -> tuple[InboundRoute, ...]:
        for route in value:
            if not re.fullmatch(r"\+?[0-9*#]+", route.number):
                raise ValueError(f"{route.number!r} is not a dialled number (digits, * or #)")
        keys = [route.key for route in value]
        if len(set(keys)) != len(keys):
            raise ValueError("a number is routed twice; give each number one flow")
        return value

    @field_validator("openai_append_ms")
    @classmethod
    def _whole_frames(cls, value: int) -> int:
        if not 0 < value <= 200 or value % 20:
            raise ValueError(
                f"{value} ms is not a positive multiple of 20 ms up to 200 (caller audio is"
                " sent in whole 20 ms line frames); use 20, 40 (the default), 60, ..., 200"
            )
        return value

    @field_validator("dial_blocked_types", "dial_countries", "dial_allowlist", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @field_validator("dial_blocked_types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from runtime.destinations import parse_types

        return parse_types(value)

    @field_validator("dial_countries")
    @classmethod
    def _country_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not re.fullmatch(r"[A-Za-z]{2}", code):
                raise ValueError(f"{code!r} is not a two-letter ISO country code")
        return tuple(c.upper() for c in value)

    @field_validator("dial_allowlist")
    @classmethod
    def _e164_numbers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for number in value:
            if not re.fullmatch(r"\+[1-9][0-9]{6,14}", number):
                raise ValueError(f"{number!r} is not an E.164 number (+ and country code)")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            scheme = urlsplit(value.get_secret_value()).scheme
            if scheme not in ("postgres", "postgresql"):
                raise ValueError("must be a postgresql://user:password@host:port/dbname URL")
        return value

    # --- derived ---------------------------------------------------------------------------

    @property
    def audiosocket_address(self) -> str:
        """``host:port`` Asterisk's dialplan connects AudioSocket to."""
        return self.audiosocket_advertised or f"{self.audiosocket_host}:{self.audiosocket_port}"

    @property
    def api_base_url(self) -> str:
        return self.api_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def recordings_dir(self) -> Path:
        """Directory of call recordings (``VOXFLOW_RECORDINGS_DIR``, else under the state dir)."""
        if self.recordings_dir_setting is not None:
            return self.recordings_dir_setting
        return self.state_dir / "recordings"

    @property
    def pg_dir(self) -> Path:
        """Data directory of the embedded PostgreSQL."""
        return self.state_dir / "pg"

    def role_of(self, key: str) -> Role | None:
        """The role of an API key, or ``None`` if it is not configured."""
        for k in self.api_keys:
            if hmac.compare_digest(k.key.get_secret_value().encode(), key.encode()):
                return k.role
        return None

    def database_url_redacted(self) -> str | None:
        """The database URL with its password masked, fit for logs."""
        if self.database_url is None:
            return None
        parts = urlsplit(self.database_url.get_secret_value())
        netloc = parts.netloc
        if parts.password is not None:
            netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))

    def problems(self) -> list[SettingProblem]:
        """Cross-field problems (each field alone is valid)."""
        out: list[SettingProblem] = []
        if self.ami_host is not None:
            for name in ("ami_username", "ami_secret"):
                if getattr(self, name) is None:
                    out.append(SettingProblem(env_name(name), "required when AMI_HOST is set"))
            if self.audiosocket_advertised is None and _is_wildcard(self.audiosocket_host):
                out.append(
                    SettingProblem(
                        "AUDIOSOCKET_ADVERTISED_ADDRESS",
                        f"AUDIOSOCKET_HOST={self.audiosocket_host} binds every interface; "
                        "say which host:port Asterisk should connect to",
                    )
                )
        if self.webhook_url is not None and self.webhook_secret is None:
            out.append(
                SettingProblem("VOXFLOW_WEBHOOK_SECRET", "required when VOXFLOW_WEBHOOK_URL is set")
            )
        if self.webhook_url is not None:
            from runtime.webhooks.urls import WebhookUrlError, check_syntax

            try:
                check_syntax(self.webhook_url)
            except WebhookUrlError as exc:
                out.append(SettingProblem("VOXFLOW_WEBHOOK_URL", str(exc)))
        if self.embeddings == "openai" and self.openai_api_key is None:
            out.append(SettingProblem("OPENAI_API_KEY", "required when VOXFLOW_EMBEDDINGS=openai"))
        out.extend(self._observability_problems())
        if not is_loopback(self.api_host) and not self.api_keys:
            out.append(
                SettingProblem(
                    "VOXFLOW_API_KEYS",
                    f"the API binds {self.api_host}, beyond loopback; it needs at least one key",
                )
            )
        return out

    def _observability_problems(self) -> list[SettingProblem]:
        out: list[SettingProblem] = []
        if (
            self.metrics
            and self.metrics_port != 0
            and self.metrics_port == self.temporal_metrics_port
        ):
            out.append(
                SettingProblem(
                    "VOXFLOW_TEMPORAL_METRICS_PORT",
                    f"is VOXFLOW_METRICS_PORT's port {self.metrics_port}; give each its own port",
                )
            )
        if self.tracing == "otlp":
            if self.otlp_endpoint is None:
                out.append(
                    SettingProblem("VOXFLOW_OTLP_ENDPOINT", "required when VOXFLOW_TRACING=otlp")
                )
            if not _installed("opentelemetry.exporter.otlp.proto.http"):
                out.append(
                    SettingProblem(
                        "VOXFLOW_TRACING",
                        "otlp needs the OTLP exporter: pip install"
                        " opentelemetry-exporter-otlp-proto-http (or use console or off)",
                    )
                )
        return out

    def require(self, *fields: str, why: str) -> None:
        """Raise one ``SettingsError`` naming every field of ``fields`` that is unset.

        Args:
            fields: field names (``"openai_api_key"``), not environment variable names.
            why: what needs them, e.g. ``"the openai provider"``.
        """
        missing = [
            SettingProblem(env_name(f), f"required by {why}")
            for f in fields
            if getattr(self, f) is None
        ]
        if missing:
            raise SettingsError(missing)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def env_name(field: str) -> str:
    """The environment variable a settings field is read from."""
    alias = Settings.model_fields[field].validation_alias
    assert isinstance(alias, str)
    return alias


def env_names() -> frozenset[str]:
    """Every environment variable voxflow reads."""
    return frozenset(env_name(f) for f in Settings.model_fields)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build and validate the settings, raising one ``SettingsError`` listing every problem.

    Args:
        environ: variables to read instead of ``os.environ`` (tests, ``--env`` files).
    """
    try:
        if environ is None:
            settings = Settings()
        else:
            known = {n.lower(): n for n in env_names()}
            values = {
                known[k.lower()]: v for k, v in environ.items() if k.lower() in known and v != ""
            }
            settings = _MappingSettings(**values)
    except ValidationError as exc:
        raise SettingsError(
            [
                SettingProblem(
                    str(err["loc"][0]) if err["loc"] else "?",
                    err["msg"].removeprefix("Value error, "),
                )
                for err in exc.errors(include_input=False)
            ]
        ) from None
    problems = settings.problems()
    if problems:
        raise SettingsError(problems)
    return settings


class _MappingSettings(Settings):
    """``Settings`` read from its keyword arguments only, never from ``os.environ``."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_sources):  # type: ignore[override]
        return (init_settings,)


def _is_wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names the loopback interface (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
