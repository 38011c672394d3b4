"""Configuration from the environment (one Settings object for every process)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

TASK_QUEUE = "casework"
# Time-critical work (release batches, SLA clocks) polls its own queue, named after the
# ordinary one, so a backlog of ordinary tasks never delays it (decision 0091).
CRITICAL_SUFFIX = "-critical"
TIME_CRITICAL_WORKFLOWS = frozenset({"OutcomeReleaseBatchWorkflow", "SlaWorkflow"})
WorkerQueues = Literal["both", "ordinary", "critical"]


def critical_queue(task_queue: str) -> str:
    """The time-critical queue beside `task_queue` (itself when it already is one)."""
    return task_queue if task_queue.endswith(CRITICAL_SUFFIX) else task_queue + CRITICAL_SUFFIX


def queue_for(workflow_type: str, task_queue: str) -> str:
    """The queue a workflow of `workflow_type` starts on (`task_queue`: the ordinary one)."""
    return critical_queue(task_queue) if workflow_type in TIME_CRITICAL_WORKFLOWS else task_queue


# Container secrets (compose `secrets:`, a k8s Secret volume): a file per setting, named
# after it (e.g. /run/secrets/database_url); an environment variable still wins.
SECRETS_DIR = Path("/run/secrets")


class Settings(BaseSettings):
    """Every knob the service reads; names are the environment variables."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", secrets_dir=SECRETS_DIR if SECRETS_DIR.is_dir() else None
    )

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset = embedded PostgreSQL under DATA_DIR"
    )
    database_name: str | None = Field(
        default=None, description="database created on the embedded server (default per stack)"
    )
    temporal_address: str | None = Field(
        default=None, description="host:port of Temporal; unset = the embedded dev server"
    )
    temporal_namespace: str = "default"
    temporal_tls: bool = Field(
        default=False, description="dial Temporal over TLS (implied by the TLS files or an API key)"
    )
    temporal_tls_cert: Path | None = Field(
        default=None, description="PEM client certificate for mTLS (with TEMPORAL_TLS_KEY)"
    )
    temporal_tls_key: Path | None = Field(default=None, description="PEM client private key")
    temporal_tls_ca: Path | None = Field(
        default=None, description="PEM CA that signed the server's certificate (default: system)"
    )
    temporal_tls_server_name: str | None = Field(
        default=None, description="name the server certificate must carry, if not the host"
    )
    temporal_api_key: str | None = Field(
        default=None, repr=False, description="Temporal Cloud API key (turns TLS on)"
    )
    task_queue: str = TASK_QUEUE
    worker_queues: WorkerQueues = Field(
        default="both",
        description="queues this worker polls: `both` (development), or one pool each in "
        "production: `ordinary` (TASK_QUEUE) or `critical` (TASK_QUEUE-critical)",
    )
    auth_secret: str = Field(default="", repr=False, description="HS256 secret for bearer tokens")
    auth_jwks_url: str | None = Field(
        default=None, description="JWKS of an identity provider: RS256/ES256 tokens instead"
    )
    auth_issuer: str | None = Field(default=None, description="`iss` JWKS tokens must carry")
    auth_audience: str | None = Field(default=None, description="`aud` JWKS tokens must carry")
    auth_jwks_cache_s: int = Field(default=300, description="how long fetched keys are trusted")
    token_ttl_s: int = Field(
        default=12 * 3600,
        ge=1,
        description="lifetime of the tokens `cli.py token` mints (its --hours overrides it)",
    )
    idempotency_ttl_s: int = Field(
        default=24 * 3600, description="how long a stored Idempotency-Key answer is kept"
    )
    idempotency_wait_s: int = Field(
        default=20, description="how long a retry waits for the first request with its key"
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="uvicorn worker processes of the API (docs/operations.md, Sizing)",
    )
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    data_dir: Path = Path(".data")
    activity_threads: int = 16
    worker_cached_workflows: int = Field(
        default=5000,
        ge=0,
        description="workflows kept in memory per polled queue (sticky cache); an evicted one "
        "is replayed from its history on its next task (decision 0101)",
    )
    log_format: Literal["json", "text"] = Field(
        default="json", description="`json`: one JSON object a line; `text` for a terminal"
    )
    log_level: str = "INFO"
    worker_metrics_port: int | None = Field(
        default=None, description="serve the Temporal SDK's Prometheus metrics on this port"
    )
    worker_metrics_host: str = "0.0.0.0"
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP collector; set = traces are exported"
    )
    otel_service_name: str | None = Field(default=None, description="default: casework-<process>")
    worker_heartbeat_file: Path | None = Field(
        default=None,
        description="touched by the worker while Temporal and PostgreSQL answer it; read by "
        "`python worker.py --check` (a container healthcheck)",
    )

    webhook_allow_private: bool = Field(
        default=False,
        description="let webhook URLs reach loopback and private addresses, over http too "
        "(tests and local runs only)",
    )
    webhook_first_retry_s: float = Field(
        default=5.0,
        ge=0.05,
        le=3600,
        description="the first webhook retry's delay (then doubling up to 2 h, for 24 h); "
        "lower it only to rehearse or test",
    )

    def temporal_target(self) -> str:
        """The address clients dial: TEMPORAL_ADDRESS or the local dev server."""
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def api_url(self) -> str:
        """Where a client on this machine reaches the API."""
        host = "127.0.0.1" if self.api_host in {"0.0.0.0", "::", ""} else self.api_host
        return f"http://{host}:{self.api_port}"

    def stack_database_name(self) -> str:
        """Database used on the embedded server: one per stack so stacks can run side by side."""
        if self.database_name:
            return self.database_name
        return "casework" if self.api_port == 8000 else f"casework_{self.api_port}"


def with_local_stack(settings: Settings) -> Settings:
    """Development only: with neither DATABASE_URL nor TEMPORAL_ADDRESS set, the coordinates
    of the `make run` stack running from DATA_DIR (its database, Temporal, dev AUTH_SECRET
    and ports) fill what is unset. A deployment sets both, so it never reads them."""
    from core import local_stack

    if settings.database_url or settings.temporal_address:
        return settings
    asked = settings.api_port if "api_port" in settings.model_fields_set else None
    found = local_stack.find(settings.data_dir, asked)
    if found is None:
        return settings
    update: dict[str, object] = {
        "database_url": found.database_url,
        "temporal_address": found.temporal_address,
        "api_port": found.api_port,
        "temporal_port": found.temporal_port,
        "temporal_ui_port": found.temporal_ui_port,
    }
    if not settings.auth_secret and not settings.auth_jwks_url and found.auth_secret:
        update["auth_secret"] = found.auth_secret
    return settings.model_copy(update=update)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (read once), a running local stack's filling what is unset."""
    return with_local_stack(Settings())
