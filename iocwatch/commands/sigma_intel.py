"""``iocwatch security sigma ...`` and ``iocwatch security intel ...``: Sigma rules and threat-intelligence feeds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=1, default=str))


@click.group()
def sigma() -> None:
    """Sigma rules: the bundled ones plus security.sigma_rules_dirs (validated at every monitor start)."""


def _paths(paths: tuple[str, ...]):
    from core.settings import get_settings

    cfg = get_settings().security
    return (list(paths) or cfg.sigma_rules_dirs), cfg.sigma_bundled


def sigma_list(paths=(), bundled: bool | None = None) -> dict:
    """The evaluated rules (id, kind, level, title, tags, file) and the problems met while loading."""
    from security.sigma.engine import level_of
    from security.sigma.loader import load

    dirs, default_bundled = _paths(paths)
    rs = load(dirs, bundled=default_bundled if bundled is None else bundled)
    rules = [{"id": r.id, "title": r.title, "kind": r.kind, "level": level_of(r.rule),
              "tags": [f"{t.namespace}.{t.name}" for t in r.rule.tags], "alerts_alone": r.output, "path": r.path}
             for r in rs.rules]
    rules += [{"id": c.id, "title": c.title, "kind": "/".join(sorted({b.kind for b in c.base})),
               "level": level_of(c.rule), "tags": [f"{t.namespace}.{t.name}" for t in c.rule.tags],
               "correlation": c.type, "path": c.path} for c in rs.correlations]
    return {**rs.summary(), "rule_list": rules}


@sigma.command("list")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--no-bundled", is_flag=True, help="Leave out the project's own rules.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def sigma_list_cmd(paths, no_bundled, as_json):
    """List the rules that are evaluated (PATHS default: security.sigma_rules_dirs)."""
    out = sigma_list(paths, False if no_bundled else None)
    if as_json:
        _echo_json(out)
        return
    for r in out["rule_list"]:
        kind = r.get("correlation") or r["kind"]
        click.echo(f"{r['level']:<13} {kind:<12} {r['id']}  {r['title']}  [{', '.join(r['tags'])}]")
    click.echo(f"{out['rules']} rules, {out['correlations']} correlations from {out['files']} files; "
               f"{out['errors']} refused, {out['skipped']} skipped")
    for p in out["problems"]:
        click.echo(f"{p['severity']}: {p['path']}{':' + str(p['line']) if p['line'] else ''}: "
                   f"{(repr(p['rule']) + ': ') if p['rule'] else ''}{p['message']}")


@sigma.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--no-bundled", is_flag=True, help="Leave out the project's own rules.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def sigma_validate_cmd(paths, no_bundled, as_json):
    """Check rule files; exit 1 when any is refused (each problem names its file and line)."""
    from security.sigma.loader import load

    dirs, bundled = _paths(paths)
    rs = load(dirs, bundled=bundled and not no_bundled)
    out = rs.summary()
    if as_json:
        _echo_json(out)
    else:
        for p in rs.problems:
            click.echo(f"{p.severity}: {p}")
        click.echo(f"{out['rules']} rules and {out['correlations']} correlations valid in {out['files']} files; "
                   f"{out['errors']} refused, {out['skipped']} skipped (log source not parsed)")
    if rs.errors:
        raise SystemExit(1)


@sigma.command("export")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--target", type=click.Choice(("lucene", "esql", "eql")), default="lucene", show_default=True,
              help="Elasticsearch query language.")
@click.option("--format", "fmt", default="default", show_default=True,
              help="Backend output format (lucene: default, kibana_ndjson, dsl_lucene, siem_rule, siem_rule_ndjson).")
@click.option("--no-bundled", is_flag=True, help="Leave out the project's own rules.")
@click.option("--output", type=click.Path(dir_okay=False), help="Write the JSON here instead of printing it.")
def sigma_export_cmd(paths, target, fmt, no_bundled, output):
    """Convert the rules to Elasticsearch queries (JSON: one entry per rule, and the rules not converted)."""
    from core.state import atomic_write_json
    from security.sigma.export import export

    dirs, bundled = _paths(paths)
    result = export(dirs, bundled=bundled and not no_bundled, target=target, fmt=fmt).as_dict()
    if output:
        atomic_write_json(Path(output), result)
        click.echo(f"{len(result['queries'])} rules converted to {target} in {output}; "
                   f"{len(result['problems'])} not converted")
    else:
        _echo_json(result)


@click.group()
def intel() -> None:
    """Threat-intelligence feeds (STIX 2.1, MISP feed/event/CSV, CSV and text lists) matched by the monitor."""


def intel_load(path: str, name: str, fmt: str | None = None, confidence: int | None = None,
               ttl_days: float | None = None) -> dict:
    """Read a feed file (or MISP feed folder) and store it as feed ``name``; returns its summary."""
    from core.settings import get_settings
    from iocwatch.commands._writer import data_writer
    from iocwatch.flows.monitor import intel_dir
    from security.intel.store import load_feed

    settings = get_settings()
    cfg = settings.security
    with data_writer(settings, scopes=("intel",)):
        return load_feed(intel_dir(settings), path, name, fmt=fmt,
                         confidence=cfg.intel_default_confidence if confidence is None else confidence,
                         ttl_days=cfg.intel_ttl_days if ttl_days is None else ttl_days,
                         max_indicators=cfg.intel_max_indicators)


@intel.command("load")
@click.argument("path", type=click.Path(exists=True))
@click.option("--name", required=True, help="Feed name shown on alerts (replaces a feed of that name).")
@click.option("--format", "fmt", type=click.Choice(("stix", "misp", "misp-csv", "csv", "text")),
              help="Feed format (default: detected).")
@click.option("--confidence", type=click.IntRange(0, 100), help="For indicators without one "
              "(default: security.intel_default_confidence).")
@click.option("--ttl-days", type=click.FloatRange(min=0), help="Expiry of indicators without one, from now "
              "(default: security.intel_ttl_days; 0 = never).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def intel_load_cmd(path, name, fmt, confidence, ttl_days, as_json):
    """Load a feed file: STIX bundle, MISP feed folder or event JSON, MISP CSV, CSV or text list."""
    out = intel_load(path, name, fmt, confidence, ttl_days)
    if as_json:
        _echo_json(out)
        return
    st = out["stats"]
    click.echo(f"feed {name}: {st['indicators']} indicators ({', '.join(f'{k} {v}' for k, v in st['by_type'].items())})"
               f" from {path} [{st['format']}]; skipped: {st['skipped'] or 'none'}")


@intel.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def intel_list_cmd(as_json):
    """The stored feeds: indicators by type, when loaded, how many have expired since."""
    from core.settings import get_settings
    from iocwatch.flows.monitor import intel_dir
    from security.intel.store import list_feeds

    feeds = list_feeds(intel_dir(get_settings()))
    if as_json:
        _echo_json({"feeds": feeds})
        return
    for f in feeds:
        if "error" in f:
            click.echo(f"{f['name']}: ERROR {f['error']}")
        else:
            click.echo(f"{f['name']}: {f['indicators']} indicators {f['by_type']} from {f['source']} "
                       f"[{f['feed_format']}] loaded {f['loaded_at']}; expired since: {f['expired_now']}")
    if not feeds:
        click.echo("no feeds loaded (iocwatch security intel load FILE --name NAME)")


_LINK = re.compile(r"https?://[^\s<>\"')\]]{4,2000}", re.I)


def scan_posts(settings, store, hours: float = 24.0, page: int = 500) -> dict:
    """Match the URLs of posts collected in the last ``hours`` (their own URL and links in their text)
    against the loaded feeds; store one alert per feed, indicator and post; returns a report."""
    from datetime import UTC, datetime, timedelta

    from iocwatch.flows.monitor import intel_dir, merge_with_stored
    from security.intel.matcher import url_alerts
    from security.intel.store import open_cached

    opened = open_cached(intel_dir(settings), min_confidence=settings.security.intel_min_confidence)
    since = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
    query = {"range": {"collected_at": {"gte": since}}}
    urls: list[tuple[str, str, float]] = []
    posts = 0
    start = 0
    while True:
        res = store.search("posts", query, size=page, from_=start, sort=["collected_at:asc"])
        for hit in res.hits:
            posts += 1
            doc = hit.source
            ts = datetime.fromisoformat(str(doc.get("collected_at")).replace("Z", "+00:00")).timestamp()
            where = f"post:{hit.id}"
            found = {doc["url"]} if doc.get("url") else set()
            found |= set(_LINK.findall(str(doc.get("text") or "")))
            urls.extend((u.rstrip(".,;"), where, ts) for u in found)
        start += len(res.hits)
        if not res.hits or start >= res.total:
            break
    alerts = url_alerts(opened.matcher, urls, settings.security) if len(opened.matcher) else []
    bulk = store.upsert_many("alerts", merge_with_stored(store, alerts)) if alerts else None
    return {"posts": posts, "urls": len(urls), "feeds": [f["name"] for f in opened.feeds],
            "alerts": len(alerts), "stored": len(bulk.stored) if bulk else 0,
            "problems": [str(p) for p in opened.problems]}


@intel.command("scan-posts")
@click.option("--hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="Posts collected within this many hours.")
def intel_scan_posts_cmd(hours):
    """Match crawled posts' URLs and links against the loaded feeds and store the alerts (JSON report)."""
    from core.settings import get_settings
    from index import open_store
    from iocwatch.commands._writer import SECURITY, data_writer

    settings = get_settings()
    with data_writer(settings, scopes=[SECURITY]):
        store = open_store(settings)
        try:
            _echo_json(scan_posts(settings, store, hours))
        finally:
            store.close()
