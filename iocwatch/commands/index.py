"""``iocwatch index ...`` and ``iocwatch search``: manage the index and query it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from iocwatch.commands._writer import POSTS, SECURITY, data_writer, wait_option


def _store():
    from core.settings import get_settings
    from index import open_store

    return open_store(get_settings())


@click.group()
def index() -> None:
    """Create, load, inspect and rebuild the index (embedded or Elasticsearch)."""


@index.command("init")
def init_cmd() -> None:
    """Create the indices (Elasticsearch: templates, mappings, aliases)."""
    store = _store()
    created = store.init()
    click.echo(f"index ready: {', '.join(created)}")


@index.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", help="Source name for rows that have none (default: the file name).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@wait_option
def load_cmd(files: tuple[Path, ...], source: str | None, as_json: bool, wait_s: float) -> None:
    """Load posts from JSONL or CSV exports; prints how many were stored and rejected, and why."""
    from tqdm import tqdm

    from core.settings import get_settings
    from index.loader import load_file

    reports: dict[str, Any] = {}
    with data_writer(get_settings(), wait_s):
        store = _store()
        try:
            for path in files:
                with tqdm(desc=path.name, unit=" rows", disable=as_json, leave=False) as bar:
                    reports[str(path)] = load_file(store, path, source=source, progress=bar).as_dict()
        finally:
            store.close()
    if as_json:
        click.echo(json.dumps(reports, ensure_ascii=False, indent=2))
        return
    for path, rep in reports.items():
        click.echo(f"{path}: {rep['stored']} stored ({rep['new']} new, {rep['updated']} updated), "
                   f"{rep['rejected']} rejected (of {rep['read']} rows)")
        for err in rep["errors"][:20]:
            click.echo(f"  line {err['line']}: {err['id'] or '<no id>'}: {err['reason']}")
        if rep["rejected"] > 20:
            click.echo(f"  ... and {rep['rejected'] - 20} more (use --json for all)")


@index.command("stats")
def stats_cmd() -> None:
    """Documents per kind."""
    store = _store()
    for kind in ("posts", "alerts"):
        click.echo(f"{kind}: {store.count(kind)}")


@index.command("rebuild")
@click.option("--from-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="An old embedded index folder (e.g. one moved aside) to read documents from.")
@click.option("--kind", type=click.Choice(["posts", "alerts"]), multiple=True)
@wait_option
def rebuild_cmd(from_dir: Path | None, kind: tuple[str, ...], wait_s: float) -> None:
    """Re-index every document with this version's schema (embedded store)."""
    from core.settings import get_settings
    from index.rebuild import rebuild

    settings = get_settings()
    kinds = list(kind) or ["posts", "alerts"]
    with data_writer(settings, wait_s, scopes=[POSTS if k == "posts" else SECURITY for k in kinds]):
        counts = rebuild(settings, kinds=kinds, from_dir=from_dir)
    for name, n in counts.items():
        click.echo(f"{name}: {n} documents re-indexed")


def search_json(result) -> dict[str, Any]:
    """The stable JSON shape of ``iocwatch search --json``."""
    hits = []
    for hit in result.hits:
        src = hit.source
        hits.append({
            "id": hit.id, "title": src.get("title"), "text": src.get("text"), "url": src.get("url"),
            "source": src.get("source"), "platform": src.get("platform"),
            "published_at": src.get("published_at"), "topics": src.get("topics"),
            "sentiment": src.get("sentiment"), "score": hit.score, "highlight": hit.highlight,
        })
    return {"total": result.total, "hits": hits}


def _refuse_query(text: str, exc, as_json: bool) -> None:
    """A malformed query: the error (JSON or the query with a caret under the place), exit 2."""
    if as_json:
        click.echo(json.dumps({"error": str(exc), "code": exc.code, "position": exc.position,
                               "query": text}, ensure_ascii=False))
    else:
        click.echo(f"error: {exc}", err=True)
        if exc.position is not None and len(text) <= 200 and "\n" not in text:
            click.echo(f"  {text}\n  {' ' * exc.position}^", err=True)
    sys.exit(2)  # click's Exit would be swallowed by iocwatch.cli.main (standalone_mode=False)


@click.command()
@click.argument("query", nargs=-1)
@click.option("--limit", default=20, show_default=True, help="Hits per page.")
@click.option("--page", default=1, show_default=True, help="Page number.")
@click.option("--exact", is_flag=True, help="Match diacritics exactly (Huế, not Hue).")
@click.option("--since", help="Only posts published since (ISO date or now-7d).")
@click.option("--until", help="Only posts published before (ISO date or now-1d).")
@click.option("--source", multiple=True, help="Only these sources.")
@click.option("--platform", multiple=True, help="Only these platforms.")
@click.option("--topic", multiple=True, help="Only these topics.")
@click.option("--sentiment", multiple=True, type=click.Choice(["negative", "neutral", "positive"]))
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest", "negative"]), default="relevance",
              show_default=True, help="negative: most negative sentiment first.")
@click.option("--json", "as_json", is_flag=True,
              help='One JSON object: {"total": N, "hits": [...]}, or {"error": ..., "position": N} for a bad query.')
def search(query: tuple[str, ...], limit: int, page: int, exact: bool, since: str | None, until: str | None,
           source: tuple[str, ...], platform: tuple[str, ...], topic: tuple[str, ...],
           sentiment: tuple[str, ...], sort: str, as_json: bool) -> None:
    """Search indexed posts. QUERY uses the search-box syntax: words, "phrases", OR, NOT, -word,
    field:value (source, platform, topic, sentiment, place, watchlist, likes:>10, date:[now-7d TO *]),
    exact:"Huế". A malformed query is refused with its column (exit code 2).
    Diacritics are ignored unless --exact: `can tho` finds "Cần Thơ"."""
    from index.querystring import parse_query, with_filters

    filters: list[dict[str, Any]] = []
    if since or until:
        rng = {k: v for k, v in (("gte", since), ("lt", until)) if v}
        filters.append({"range": {"published_at": rng}})
    for field, values in (("source", source), ("platform", platform), ("topics", topic), ("sentiment", sentiment)):
        if values:
            filters.append({"terms": {field: list(values)}})
    from core.errors import QuerySyntaxError
    from core.settings import get_settings

    text = " ".join(query)
    try:
        parsed = parse_query(text, exact=exact, max_depth=get_settings().index.query_max_depth)
    except QuerySyntaxError as exc:
        _refuse_query(text, exc, as_json)
    q = with_filters(parsed, filters)
    order = {"newest": ["published_at:desc"], "oldest": ["published_at:asc"],
             "negative": ["sentiment_score:asc"]}.get(sort)
    result = _store().search("posts", q, size=limit, from_=(max(page, 1) - 1) * limit, sort=order,
                             highlight=["title", "text"])
    if as_json:
        click.echo(json.dumps(search_json(result), ensure_ascii=False))
        return
    click.echo(f"{result.total} posts")
    for hit in result.hits:
        src = hit.source
        date = (src.get("published_at") or "")[:16].replace("T", " ")
        click.echo(f"\n[{date}] {src.get('source')} · {src.get('title') or '(no title)'}")
        snippet = (hit.highlight.get("text") or hit.highlight.get("title") or [(src.get("text") or "")[:200]])[0]
        click.echo("  " + snippet.replace("<mark>", "[").replace("</mark>", "]"))
        if src.get("url"):
            click.echo(f"  {src['url']}")
