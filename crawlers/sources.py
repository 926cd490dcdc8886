"""The sources YAML: what to collect, validated on load with errors naming the source and the key.

Format (see ``docs/crawling.md``)::

    sources:
      - name: baocantho            # unique, used by `iocwatch crawl baocantho`
        type: rss                  # rss | sitemap | listing | youtube | facebook | telegram | forum
        url: https://.../rss.xml   # feeds, sitemaps, listings, forums, telegram preview base
        id: "..."                  # channel / page id for API sources
        schedule: 30m              # how often the service runs it (s, m, h, d)
        tags: [bao-chi, can-tho]
        credentials: {api_key: YOUTUBE_API_KEY}   # environment variable NAMES, never values
        extract: {body: "div.detail-content", remove: ["div.comments"]}  # selector overrides

Credentials are environment variable names; a source whose variable is unset is
*disabled* (not an error) and :meth:`Source.missing_credentials` names the variable.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import ConfigError
from core.yamlfile import read_yaml

SOURCE_TYPES = ("rss", "sitemap", "listing", "youtube", "facebook", "telegram", "forum")
SourceType = Literal["rss", "sitemap", "listing", "youtube", "facebook", "telegram", "forum"]

# Which credential keys each API type needs (key -> what it is for).
REQUIRED_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "youtube": ("api_key",),
    "facebook": ("access_token",),
}
PLATFORM_OF_TYPE = {
    "rss": "news", "sitemap": "news", "listing": "news", "youtube": "youtube",
    "facebook": "facebook", "telegram": "telegram", "forum": "forum",
}
_SCHEDULE = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_schedule(value: str | int | None) -> int | None:
    """``"30m"`` -> 1800 seconds; ints are seconds; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("schedule must be positive")
        return value
    match = _SCHEDULE.match(str(value))
    if not match:
        raise ValueError(f"schedule {value!r} is not like 90s, 30m, 6h or 1d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("schedule must be positive")
    return seconds


class Extract(BaseModel):
    """Per-site selector overrides for article pages (CSS, or XPath when starting with ``/``)."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    body: str | None = None
    author: str | None = None
    date: str | None = None
    remove: list[str] = Field(default_factory=list)  # removed before extraction (comments, ads)


class Listing(BaseModel):
    """Selectors of an HTML listing page: links to articles and the next page."""

    model_config = ConfigDict(extra="forbid")
    links: str  # selects <a> elements (or href attributes) of articles
    next_page: str | None = None
    max_pages: int = Field(5, ge=1)


class Source(BaseModel):
    """One configured source."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    type: SourceType
    url: str | None = None
    id: str | None = None  # channel id, page id, telegram channel name
    schedule_s: int | None = Field(None, alias="schedule")
    tags: list[str] = Field(default_factory=list)
    credentials: dict[str, str] = Field(default_factory=dict)  # key -> ENV VAR NAME
    extract: Extract | None = None
    listing: Listing | None = None
    api_base: str | None = None  # override the API root (tests, proxies)
    max_items: int = Field(500, ge=1)  # per run, per source
    comments: bool = True  # API sources: also collect comments
    search_watchlists: bool = True  # youtube: search by watchlist keywords when no id
    require_watchlist: bool = False  # keep only posts matching a watchlist
    enabled: bool = True

    @field_validator("schedule_s", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> int | None:
        return parse_schedule(value)

    @field_validator("credentials")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, env in value.items():
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", env or ""):
                raise ValueError(f"credentials.{key} must name an environment variable "
                                 f"(UPPER_CASE), not hold the secret itself")
        return value

    @model_validator(mode="after")
    def _needs(self) -> Source:
        if self.type in ("rss", "sitemap", "listing", "forum") and not self.url:
            raise ValueError(f"a {self.type} source needs 'url'")
        if self.type == "listing" and self.listing is None:
            raise ValueError("a listing source needs 'listing: {links: <selector>}'")
        if self.type == "telegram" and not (self.id or self.url):
            raise ValueError("a telegram source needs 'id' (the public channel name)")
        if self.type == "facebook" and not self.id:
            raise ValueError("a facebook source needs 'id' (the page id)")
        if self.type == "youtube" and not self.id and not self.search_watchlists:
            raise ValueError("a youtube source needs 'id' (a channel) or search_watchlists: true")
        for key in REQUIRED_CREDENTIALS.get(self.type, ()):
            if key not in self.credentials:
                raise ValueError(f"a {self.type} source needs credentials.{key}: <ENV_VAR_NAME>")
        return self

    @property
    def platform(self) -> str:
        return PLATFORM_OF_TYPE[self.type]

    def missing_credentials(self, environ: dict[str, str] | None = None) -> list[str]:
        """Environment variables this source needs that are not set."""
        env = os.environ if environ is None else environ
        return [name for name in self.credentials.values() if not env.get(name)]

    def credential(self, key: str, environ: dict[str, str] | None = None) -> str | None:
        env = os.environ if environ is None else environ
        name = self.credentials.get(key)
        return env.get(name) if name else None


def default_sources_path() -> Path:
    return Path(str(resources.files("crawlers").joinpath("sources.yaml")))


def load_sources(path: str | Path | None = None) -> list[Source]:
    """Read and validate a sources YAML; errors name the file, the source and the key."""
    path = Path(path) if path else default_sources_path()
    if not path.is_file():
        raise ConfigError(f"sources file {path} does not exist",
                          hint="pass --sources FILE or set IOCWATCH_CRAWL__SOURCES_FILE")
    data = read_yaml(path, hint="fix the indentation or quoting")
    return parse_sources(data, where=str(path))


def parse_sources(data: Any, *, where: str = "<sources>") -> list[Source]:
    """Validate already-parsed YAML data (a dict with a ``sources`` list)."""
    items = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError("top level must be a mapping with a 'sources' list", where=where,
                          hint="start the file with 'sources:'")
    out: list[Source] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        label = raw.get("name") if isinstance(raw, dict) and raw.get("name") else f"#{index + 1}"
        if not isinstance(raw, dict):
            raise ConfigError(f"source {label} must be a mapping", where=where)
        try:
            source = Source.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err.get("loc", ())) or "<source>"
            msg = err.get("msg", "invalid").removeprefix("Value error, ")
            if err.get("type") == "extra_forbidden":
                msg = "unknown key"
            raise ConfigError(f"source {label!r}, key {key!r}: {msg}", where=where,
                              hint="see docs/crawling.md for the keys of each source type") from None
        if source.name in seen:
            raise ConfigError(f"source {source.name!r}, key 'name': used twice", where=where,
                              hint="give every source a unique name")
        seen.add(source.name)
        out.append(source)
    return out


def select_sources(sources: list[Source], names: list[str] | tuple[str, ...]) -> list[Source]:
    """The sources named (all enabled ones when ``names`` is empty); unknown names raise."""
    if not names:
        return [s for s in sources if s.enabled]
    by_name = {s.name: s for s in sources}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ConfigError(f"unknown source(s): {', '.join(unknown)}",
                          hint=f"known sources: {', '.join(sorted(by_name))}")
    return [by_name[n] for n in names]
