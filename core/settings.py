"""One typed settings object, read from the environment, ``.env`` and an optional TOML file.

Precedence (highest first): keyword arguments, ``IOCWATCH_*`` environment variables
(nested with ``__``, e.g. ``IOCWATCH_NLP__BATCH_SIZE=64``), ``.env``, the TOML file
named by ``IOCWATCH_CONFIG`` (default ``./iocwatch.toml`` when present), defaults.

Nothing reads the environment at import time: call :func:`get_settings`.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from core.errors import ConfigError
from core.secrets import mask_secrets

log = logging.getLogger(__name__)


def _split_list(value: Any) -> Any:
    """A list setting given as text (an environment variable): JSON, or comma-separated."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a valid JSON list ({exc.msg} at character {exc.pos}); "
                                 "give a JSON list or comma-separated values") from None
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


# A list of strings that an environment variable may also give as JSON or "a, b, c".
StrList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]
# a non-empty list of positive numbers, from the environment as JSON or comma-separated
PositiveFloats = Annotated[list[Annotated[float, Field(gt=0, allow_inf_nan=False)]], NoDecode,
                           BeforeValidator(_split_list), Field(min_length=1)]
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SEVERITIES = ("info", "low", "medium", "high", "critical")


class _Section(BaseModel):
    """A settings section: unknown keys are kept aside so they can be reported by name."""

    model_config = ConfigDict(extra="allow")


class IndexSettings(_Section):
    """The store: embedded tantivy (default) or Elasticsearch."""

    prefix: str = "iocwatch"  # index / template name prefix on Elasticsearch
    es_username: str | None = None  # basic auth user; "elastic" in docker-compose
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None  # alternative to user/password
    es_ca_certs: str | None = None  # CA bundle for an https cluster
    es_verify_certs: bool = True
    es_timeout_s: float = Field(30.0, gt=0)
    es_shards: int = Field(1, ge=1)  # primary shards per time-based index
    es_replicas: int = Field(0, ge=0)  # 0 on a single node; 1+ on a cluster
    writer_heap_mb: int = Field(512, ge=16)  # tantivy writer memory; larger heaps ingest faster
    # Embedded store: also index title/text with their diacritics. Exact searches then
    # read the index only (milliseconds) instead of checking the stored text of the
    # folded matches (seconds for a common word over a million posts, without a time
    # range); ingest is 5-10 % slower. Changing it needs `iocwatch index rebuild`.
    exact_copies: bool = False
    bulk_chunk: int = Field(1000, ge=1)  # documents per bulk request / commit
    # Nested groups a search-box query may hold; deeper ones are refused with a message
    # (Elasticsearch refuses bool queries nested deeper than 30 by default).
    query_max_depth: int = Field(30, ge=1, le=100)


class CrawlSettings(_Section):
    """Collection with Scrapy."""

    sources_file: str | None = None  # YAML of sources; None = the bundled default list
    watchlists_file: str | None = None  # YAML of watchlists; None = the bundled examples
    user_agent: str = "iocwatch/0.1 (+operation centre social listening)"
    concurrent_requests_per_domain: int = Field(4, ge=1)  # politeness towards each outlet
    download_timeout_s: float = Field(20.0, gt=0)
    max_page_bytes: int = Field(5_000_000, ge=1024)  # larger responses are dropped and reported
    autothrottle: bool = True
    obey_robots: bool = True
    retry_times: int = Field(3, ge=0)  # retries on 5xx and timeouts, with backoff
    redis_url: str | None = None  # set to share the scheduler and dupefilter (scale-out)
    # scale-out: a worker whose share of the queue is empty waits this long for requests
    # other workers add before it ends (0 = end at once); a worker started beside another
    # otherwise finds the start pages taken and the articles not queued yet, and quits
    redis_idle_s: float = Field(10.0, ge=0)


class NlpSettings(_Section):
    """The Vietnamese NLP pipeline."""

    stages: StrList = Field(
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
    batch_size: int = Field(256, ge=1)  # posts per pipeline batch; larger batches amortise per-batch work
    # a running pipeline (iocwatch serve, listen) checks this often whether a model version
    # was promoted or rolled back in the data directory, and loads it; 0 = never
    reload_check_s: float = Field(10.0, ge=0)
    max_chars: int = Field(20_000, ge=100)  # longer texts are truncated and flagged "truncated"
    device: str = "cpu"  # transformers backend: "cpu" or "cuda"
    max_length: int = Field(256, ge=8)  # transformers backend: tokens per text (longer ones are truncated)
    teencode_file: str | None = None  # YAML token: expansion, added to the bundled teencode list
    topic_rules_file: str | None = None  # YAML topic id: [keywords], added to the taxonomy rules
    gazetteer_file: str | None = None  # YAML in the bundled gazetteer's shape, merged into it
    max_keywords: int = Field(8, ge=0)  # key phrases kept per post


class SecuritySettings(_Section):
    """The network and log security monitor."""

    detector: str = "ecod"  # ecod | iforest | copod | hbos | ensemble
    contamination: float = Field(0.01, gt=0, le=0.5)  # expected share of outliers in the baseline
    dedup_window_s: int = Field(3600, ge=0)  # repeated detections within this window merge into one alert
    allowlist: StrList = Field(default_factory=list)  # IPs, CIDRs, users or hosts never alerted
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)  # per-rule threshold overrides
    window_s: int = Field(300, ge=1)  # per-entity feature window the detectors score and most rules count in
    flow_idle_timeout_s: float = Field(60.0, gt=0)  # a flow with no packet for this long is finished
    flow_active_timeout_s: float = Field(1800.0, gt=0)  # longer flows are cut and reported in pieces
    max_evidence: int = Field(5, ge=0)  # sample lines / flows kept on each alert
    template_sim_th: float = Field(0.87, gt=0, le=1)  # drain3 similarity threshold for log templates
    bpf_filter: str | None = None  # default BPF filter for live capture, e.g. "not port 22"
    # behaviour analytics over hours (security/analytics/): per-analytic overrides of the defaults
    # written in each module, e.g. [security.analytics.beaconing] min_score = 0.8; enabled = false
    analytics: dict[str, dict[str, Any]] = Field(default_factory=dict)
    analytics_enabled: bool = True  # run the analytics at all (state in <data_dir>/security/analytics.json)
    analytics_realert_s: int = Field(43200, ge=0)  # one behaviour (analytic and key) is raised again after 12 h
    internal_networks: StrList = Field(  # the monitored network: its hosts get baselines, edges and peers
        default_factory=lambda: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"])
    # Sigma rules (security/sigma/): the bundled rules plus every *.yml/*.yaml in these folders
    sigma_enabled: bool = True  # evaluate Sigma rules on the normalised log events
    sigma_bundled: bool = True  # include the project's own rules (security/sigma/rules/)
    sigma_rules_dirs: StrList = Field(default_factory=list)  # operators' folders of Sigma rules
    sigma_level_risk: dict[str, float] = Field(  # risk score of an alert per Sigma level
        default_factory=lambda: {"informational": 20.0, "low": 35.0, "medium": 55.0, "high": 78.0,
                                 "critical": 92.0})
    sigma_max_events: int = Field(100_000, ge=1)  # events kept per correlation rule and batch (oldest dropped)
    # threat intelligence (security/intel/): feeds loaded with `iocwatch security intel load`
    intel_enabled: bool = True  # match connections, DNS queries and web requests against loaded feeds
    intel_dir: str | None = None  # where loaded feeds are kept; None = <data_dir>/security/intel
    intel_default_confidence: int = Field(70, ge=0, le=100)  # for indicators whose feed gives none
    intel_ttl_days: float = Field(90.0, ge=0)  # expiry of indicators without one, from loading; 0 = never
    intel_max_indicators: int = Field(5_000_000, ge=1)  # per feed; the rest of a larger feed is dropped
    intel_min_confidence: int = Field(0, ge=0, le=100)  # indicators below this never alert
    intel_risk_min: float = Field(45.0, ge=0, le=100)  # risk of a match at confidence 0 ...
    intel_risk_max: float = Field(85.0, ge=0, le=100)  # ... and at confidence 100 (linear between)
    intel_on_crawl: bool = True  # the listen flow matches crawled posts' URLs and links as it stores them


class DashboardSettings(_Section):
    """The Streamlit dashboard."""

    users_file: str | None = None  # YAML of users with bcrypt hashes; None = <data_dir>/users.yaml
    language: Literal["vi", "en"] = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    cache_ttl_s: int = Field(60, ge=0)  # how long query results are cached
    max_login_failures: int = Field(5, ge=1)  # per user within the lock window
    login_lock_s: int = Field(300, ge=0)  # seconds a user stays locked after too many failures
    session_idle_s: int = Field(1800, ge=60)  # a browser session ends after this long without use
    session_max_s: int = Field(43200, ge=60)  # and this long after login in any case (cookie lifetime)
    oidc: bool = False  # use st.login with [auth] in .streamlit/secrets.toml

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as "
                             "'Asia/Ho_Chi_Minh' or 'UTC'") from None
        return value


class NotifySettings(_Section):
    """Notification sinks for spikes and security alerts."""

    min_severity: Literal["info", "low", "medium", "high", "critical"] = "high"  # alerts at or above this are sent
    webhook_url: str | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    email_to: StrList = Field(default_factory=list)
    retries: int = Field(4, ge=0)
    digest_hour: int = Field(7, ge=0, le=23)  # local hour of the daily digest
    telegram_api_base: str = "https://api.telegram.org"  # Bot API base URL; tests use a local one
    smtp_starttls: bool = True  # upgrade the SMTP connection with STARTTLS when offered
    smtp_ssl: bool = False  # implicit TLS (port 465) instead of STARTTLS
    digest_to: StrList = Field(default_factory=list)  # communications staff; [] = email_to
    timeout_s: float = Field(10.0, gt=0)  # per HTTP/SMTP attempt
    backoff_s: float = Field(1.0, ge=0)  # first retry delay; doubles on each retry
    spikes: bool = True  # send listening spikes (as well as security alerts)
    lookback_h: int = Field(24, ge=1)  # the service notifies alerts last seen within this many hours


class ServeSettings(_Section):
    """The continuous service (``iocwatch serve``)."""

    default_schedule_s: int = Field(1800, ge=1)  # sources without their own schedule
    monitor_interval_s: int = Field(60, ge=1)
    spike_interval_s: int = Field(300, ge=1)
    major_news_schedule_s: int = 1800  # ceiling for sources marked major (every 30 min or less)
    short_schedule_s: int = 5  # every job's interval in `serve --short` (demo and tests)
    spool_max_mb: float = Field(2048, ge=0)  # refuse (loudly) new batches beyond this spool size; 0 = no limit
    spool_min_free_mb: float = Field(64, ge=0)  # refuse new batches when the disk has less free space
    spool_retry_s: float = Field(2.0, gt=0)  # first retry after the store went down; doubles each time
    spool_retry_max_s: float = Field(300.0, gt=0)
    spike_window_h: int = Field(6, ge=1)  # recent window compared with the baseline
    spike_baseline_d: int = Field(7, ge=1)  # length of the baseline before the window
    spike_min_count: int = Field(5, ge=1)  # fewer posts in the window never make a spike
    spike_p_value: float = Field(0.001, gt=0, lt=1)  # one-sided tail probability to call a spike significant
    spike_min_ratio: float = Field(2.0, ge=1)  # and the window rate must be at least this times the baseline
    spike_min_share_delta: float = Field(0.2, ge=0, le=1)  # negative share must rise by at least this (0.2 = 20 points)
    spike_related_max: int = Field(50, ge=0)  # posts linked from a spike alert (newest first)
    spike_now: Literal["clock", "latest"] = "clock"  # "latest": newest post's time (demo data)
    spike_ignore: StrList = Field(default_factory=lambda: ["topic:other"])  # catch-all groups
    spike_relative: bool = True  # a volume spike must also raise the group's share of all posts
    workers: int = Field(2, ge=1)  # jobs (crawls, monitor batches) running at the same time
    shutdown_timeout_s: float = Field(60.0, ge=0)  # SIGTERM: wait this long for running jobs
    monitor_pcap_dir: str | None = None  # rotated captures dropped here are scored once each
    monitor_logs: StrList = Field(default_factory=list)  # log files followed by the monitor
    monitor_iface: str | None = None  # live capture interface (needs root / CAP_NET_RAW)
    outbox_settle_s: int = Field(600, ge=0)  # crawl hand-over files untouched this long are left-overs to ingest


class LearnSettings(_Section):
    """The correction loop: operators' labels, retraining, the review queue (``nlp.retrain``)."""

    # The audit sample: posts whose id hash falls below this share. The review queue asks
    # about them label-blind (newest first, in this share of its slots) and retraining holds
    # their corrections back to compare the candidate with the model in use, so the
    # comparison is made on posts like the stream, not on the ones the models found hardest.
    holdout: float = Field(0.3, gt=0, lt=1)
    # The SVM's C for corpus sentences and for operators' corrections (a correction weighs
    # their ratio): each retraining chooses the pair on these grids by k-fold CV over its own
    # training corrections (nlp.retrain.choose_weighting). The grids were set by 5-fold CV on
    # 150 posts of one half of ioc_real_dev (the other half measures the learning curve):
    # sentiment was best with corpus C 0.033 and correction C 1 (0.828 against 0.767 for the
    # corpus alone, 0.800 for one C), topic with corpus C 0.33 (0.916 against 0.885), so
    # the pair is chosen per task and per retraining.
    corpus_c: PositiveFloats = Field(default_factory=lambda: [0.033, 0.1, 0.33, 1.0])
    correction_c: PositiveFloats = Field(default_factory=lambda: [0.33, 1.0, 3.0])
    cv_folds: int = Field(5, ge=2, le=20)  # folds over the corrections to choose the pair
    min_corrections: int = Field(10, ge=2)  # retraining refuses fewer corrections than this
    lock_wait_s: float = Field(0.0, ge=0)  # dashboard retrain button: wait for another retraining
    # Correcting or withdrawing a label reads a post, changes it and writes it back; a
    # dashboard and a CLI (or two dashboards) on one data directory take turns through a
    # "corrections" writer lock. A turn takes well under a second: wait this long for one.
    correction_lock_wait_s: float = Field(30.0, ge=0)
    review_candidates: int = Field(400, ge=1)  # newest uncorrected posts the review queue ranks
    review_size: int = Field(10, ge=1)  # posts shown in the review queue (each with its buttons)
    review_disagree_bonus: float = Field(0.5, ge=0)  # keyword rules vs classifier disagreeing adds this


class Settings(BaseSettings):
    """Every setting of iocwatch. Build with :func:`get_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="IOCWATCH_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="allow",  # unknown keys are kept aside, reported by name (refused when strict)
    )

    data_dir: Path = Path("./data")  # all local state: index, models, spool, status
    store: Literal["embedded", "elasticsearch"] = "embedded"
    es_url: str | None = None  # e.g. http://localhost:9200; needed when store=elasticsearch
    log_level: str = "INFO"  # DEBUG | INFO | WARNING | ERROR | CRITICAL
    strict: bool = False  # refuse unknown setting keys instead of warning about them

    index: IndexSettings = Field(default_factory=IndexSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    learn: LearnSettings = Field(default_factory=LearnSettings)

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

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if str(value).upper() not in _LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; use one of {', '.join(_LOG_LEVELS)}")
        return str(value).upper()

    def unknown_keys(self) -> list[str]:
        """Setting keys that were given but mean nothing here (``nlp.batchsize``), sorted."""
        found = [k for k in (self.model_extra or {}) if k.lower() not in _ENV_ONLY]
        for name in type(self).model_fields:
            section = getattr(self, name)
            if isinstance(section, _Section):
                found += [f"{name}.{k}" for k in (section.model_extra or {})]
        return sorted(found)

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


_ENV_ONLY = {"config", "datasets"}  # IOCWATCH_* variables read outside the settings object


def _env_name(key: str) -> str:
    return "IOCWATCH_" + key.replace(".", "__").upper()


def _where(key: str) -> str:
    """Where a setting came from, for error messages: its variable, else the TOML file."""
    var = _env_name(key)
    if var in os.environ:
        return f"environment variable {var}"
    toml = _toml_path()
    return str(toml) if toml else f"{var} / iocwatch.toml"


def _suggest(key: str, settings_cls: type[BaseModel]) -> str:
    section, _, name = key.rpartition(".")
    model: Any = settings_cls
    if section:
        field = settings_cls.model_fields.get(section)
        model = field.annotation if field is not None else None
    names = list(getattr(model, "model_fields", {}))
    close = difflib.get_close_matches(name, names, n=1)
    return f"did you mean {((section + '.') if section else '') + close[0]!r}?" if close else \
        "remove it or check its spelling in docs/operations.md"


def load_settings(**overrides: Any) -> Settings:
    """Build settings now (uncached), validated: a bad value raises :class:`ConfigError`
    naming the key, the reason and where it came from (the environment variable or the
    file); unknown keys are logged by name, or refused when ``strict`` is set."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:5]:
            key = ".".join(str(p) for p in err.get("loc", ()))
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            lines.append(f"setting {key!r} ({_where(key)}): {msg}")
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise ConfigError("; ".join(lines) + more,
                          hint="correct the value or remove it to use the default") from None
    except SettingsError as exc:  # an environment variable that should hold JSON does not
        text = str(exc)
        field = text.split('"')[1] if text.count('"') >= 2 else "?"
        raise ConfigError(f"cannot read setting {field!r} from the environment: {exc.__cause__ or exc}",
                          hint="give a JSON value in the IOCWATCH_* variable named after it "
                               "(nested with __)") from None
    except ValueError as exc:  # TOML syntax errors surface as ValueError subclasses
        raise ConfigError(f"cannot read settings: {exc}", where=str(_toml_path()),
                          hint="fix the TOML syntax") from None
    unknown = settings.unknown_keys()
    if unknown:
        details = "; ".join(f"{k} ({_suggest(k, Settings)})" for k in unknown)
        if settings.strict:
            raise ConfigError(f"unknown setting keys: {details}", where=_where(unknown[0]),
                              hint="remove them, or set strict = false to only warn")
        log.warning("ignoring unknown setting keys: %s", details)
    return settings


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
        if isinstance(value, str):  # URLs with user:password@, token=... parameters
            return mask_secrets(value)
        return value

    return walk(settings)
