"""One typed settings object, read from the environment, ``.env`` and an optional TOML file.

Precedence (highest first): keyword arguments, ``IOCWATCH_*`` environment variables
(nested with ``__``, e.g. ``IOCWATCH_NLP__BATCH_SIZE=64``), ``.env``, the TOML file
named by ``IOCWATCH_CONFIG`` (default ``./iocwatch.toml`` when present), defaults.

Nothing reads the environment at import time: call :func:`get_settings`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.errors import ConfigError


class IndexSettings(BaseModel):
    """The store: embedded tantivy (default) or Elasticsearch."""

    prefix: str = "iocwatch"  # index / template name prefix on Elasticsearch
    es_username: str | None = None  # basic auth user; "elastic" in docker-compose
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None  # alternative to user/password
    es_ca_certs: str | None = None  # CA bundle for an https cluster
    es_verify_certs: bool = True
    es_timeout_s: float = 30.0
    es_shards: int = 1  # primary shards per time-based index
    es_replicas: int = 0  # 0 on a single node; 1+ on a cluster
    writer_heap_mb: int = 512  # tantivy writer memory; larger heaps ingest faster
    # Embedded store: also index title/text with their diacritics. Exact searches then
    # read the index only (milliseconds) instead of checking the stored text of the
    # folded matches (seconds for a common word over a million posts, without a time
    # range); ingest is 5-10 % slower. Changing it needs `iocwatch index rebuild`.
    exact_copies: bool = False
    bulk_chunk: int = 1000  # documents per bulk request / commit


class CrawlSettings(BaseModel):
    """Collection with Scrapy."""

    sources_file: str | None = None  # YAML of sources; None = the bundled default list
    watchlists_file: str | None = None  # YAML of watchlists; None = the bundled examples
    user_agent: str = "iocwatch/0.1 (+operation centre social listening)"
    concurrent_requests_per_domain: int = 4  # politeness towards each outlet
    download_timeout_s: float = 20.0
    max_page_bytes: int = 5_000_000  # larger responses are dropped and reported
    autothrottle: bool = True
    obey_robots: bool = True
    retry_times: int = 3  # retries on 5xx and timeouts, with backoff
    redis_url: str | None = None  # set to share the scheduler and dupefilter (scale-out)


class NlpSettings(BaseModel):
    """The Vietnamese NLP pipeline."""

    stages: list[str] = Field(
        default_factory=lambda: [
            "normalize", "language", "segment", "topic", "sentiment", "toxicity",
            "entities", "keywords",
        ]
    )  # run in this order
    topic_backend: str = "linear"  # "linear" | "transformers"
    sentiment_backend: str = "linear"
    toxicity_backend: str = "linear"
    topic_model: str | None = None  # a model directory or HF model id; None = shipped default
    sentiment_model: str | None = None
    toxicity_model: str | None = None
    batch_size: int = 256  # posts per pipeline batch; larger batches amortise per-batch work
    max_chars: int = 20_000  # longer texts are truncated and flagged "truncated"
    device: str = "cpu"  # transformers backend: "cpu" or "cuda"
    max_length: int = 256  # transformers backend: tokens per text (longer ones are truncated)
    teencode_file: str | None = None  # YAML token: expansion, added to the bundled teencode list
    topic_rules_file: str | None = None  # YAML topic id: [keywords], added to the taxonomy rules
    gazetteer_file: str | None = None  # YAML in the bundled gazetteer's shape, merged into it
    max_keywords: int = 8  # key phrases kept per post


class SecuritySettings(BaseModel):
    """The network and log security monitor."""

    detector: str = "ecod"  # ecod | iforest | copod | hbos | ensemble
    contamination: float = 0.01  # expected share of outliers in the baseline
    dedup_window_s: int = 3600  # repeated detections within this window merge into one alert
    allowlist: list[str] = Field(default_factory=list)  # IPs, CIDRs, users or hosts never alerted
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)  # per-rule threshold overrides
    window_s: int = 300  # per-entity feature window the detectors score and most rules count in
    flow_idle_timeout_s: float = 60.0  # a flow with no packet for this long is finished
    flow_active_timeout_s: float = 1800.0  # longer flows are cut and reported in pieces
    max_evidence: int = 5  # sample lines / flows kept on each alert
    template_sim_th: float = 0.87  # drain3 similarity threshold for log templates
    bpf_filter: str | None = None  # default BPF filter for live capture, e.g. "not port 22"


class DashboardSettings(BaseModel):
    """The Streamlit dashboard."""

    users_file: str | None = None  # YAML of users with bcrypt hashes; None = <data_dir>/users.yaml
    language: Literal["vi", "en"] = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    cache_ttl_s: int = 60  # how long query results are cached
    max_login_failures: int = 5  # per user within the lock window
    login_lock_s: int = 300
    oidc: bool = False  # use st.login with [auth] in .streamlit/secrets.toml


class NotifySettings(BaseModel):
    """Notification sinks for spikes and security alerts."""

    min_severity: str = "high"  # alerts at or above this are sent
    webhook_url: str | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    email_to: list[str] = Field(default_factory=list)
    retries: int = 4
    digest_hour: int = 7  # local hour of the daily digest
    telegram_api_base: str = "https://api.telegram.org"  # Bot API base URL; tests use a local one
    smtp_starttls: bool = True  # upgrade the SMTP connection with STARTTLS when offered
    smtp_ssl: bool = False  # implicit TLS (port 465) instead of STARTTLS
    digest_to: list[str] = Field(default_factory=list)  # communications staff; [] = email_to
    timeout_s: float = 10.0  # per HTTP/SMTP attempt
    backoff_s: float = 1.0  # first retry delay; doubles on each retry
    spikes: bool = True  # send listening spikes (as well as security alerts)
    lookback_h: int = 24  # the service notifies alerts last seen within this many hours


class ServeSettings(BaseModel):
    """The continuous service (``iocwatch serve``)."""

    default_schedule_s: int = 1800  # sources without their own schedule
    monitor_interval_s: int = 60
    spike_interval_s: int = 300
    major_news_schedule_s: int = 1800  # ceiling for sources marked major (every 30 min or less)
    short_schedule_s: int = 5  # every job's interval in `serve --short` (demo and tests)
    spool_max_mb: float = 2048  # refuse (loudly) new batches beyond this spool size; 0 = no limit
    spool_min_free_mb: float = 64  # refuse new batches when the disk has less free space
    spool_retry_s: float = 2.0  # first retry after the store went down; doubles each time
    spool_retry_max_s: float = 300.0
    spike_window_h: int = 6  # recent window compared with the baseline
    spike_baseline_d: int = 7  # length of the baseline before the window
    spike_min_count: int = 5  # fewer posts in the window never make a spike
    spike_p_value: float = 0.001  # one-sided tail probability to call a spike significant
    spike_min_ratio: float = 2.0  # and the window rate must be at least this times the baseline
    spike_min_share_delta: float = 0.2  # negative share must rise by at least this (0.2 = 20 points)
    spike_related_max: int = 50  # posts linked from a spike alert (newest first)
    spike_now: Literal["clock", "latest"] = "clock"  # "latest": newest post's time (demo data)
    spike_ignore: list[str] = Field(default_factory=lambda: ["topic:other"])  # catch-all groups
    spike_relative: bool = True  # a volume spike must also raise the group's share of all posts
    workers: int = 2  # jobs (crawls, monitor batches) running at the same time
    shutdown_timeout_s: float = 60.0  # SIGTERM: wait this long for running jobs
    monitor_pcap_dir: str | None = None  # rotated captures dropped here are scored once each
    monitor_logs: list[str] = Field(default_factory=list)  # log files followed by the monitor
    monitor_iface: str | None = None  # live capture interface (needs root / CAP_NET_RAW)
    outbox_settle_s: int = 600  # crawl hand-over files untouched this long are left-overs to ingest


class Settings(BaseSettings):
    """Every setting of iocwatch. Build with :func:`get_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="IOCWATCH_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Path("./data")  # all local state: index, models, spool, status
    store: Literal["embedded", "elasticsearch"] = "embedded"
    es_url: str | None = None  # e.g. http://localhost:9200; needed when store=elasticsearch
    log_level: str = "INFO"

    index: IndexSettings = Field(default_factory=IndexSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _toml_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    def path(self, *parts: str) -> Path:
        """A path under the data directory (created on demand by the caller)."""
        return self.data_dir.joinpath(*parts)


def _toml_path() -> Path | None:
    named = os.environ.get("IOCWATCH_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist",
                              hint="fix IOCWATCH_CONFIG or create the file")
        return path
    default = Path("iocwatch.toml")
    return default if default.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build settings now (uncached); malformed values raise :class:`ConfigError` naming the key."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err.get("loc", ()))
        source = os.environ.get("IOCWATCH_CONFIG") or "iocwatch.toml / IOCWATCH_* environment"
        raise ConfigError(f"setting {key!r}: {err.get('msg')}", where=source,
                          hint="correct the value or remove it to use the default") from None
    except ValueError as exc:  # TOML syntax errors surface as ValueError subclasses
        raise ConfigError(f"cannot read settings: {exc}", where=str(_toml_path()),
                          hint="fix the TOML syntax") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built once on first use."""
    return load_settings()


def masked(settings: Settings) -> dict[str, Any]:
    """Settings as a dict with every secret replaced by ``********``."""

    def walk(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return "********" if value.get_secret_value() else ""
        if isinstance(value, BaseModel):
            return {k: walk(getattr(value, k)) for k in type(value).model_fields}
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        return value

    out = walk(settings)
    if settings.es_url and "@" in settings.es_url:  # credentials inside the URL
        scheme, sep, rest = settings.es_url.rpartition("://")
        out["es_url"] = f"{scheme}{sep}********@{rest.rsplit('@', 1)[1]}"
    return out
