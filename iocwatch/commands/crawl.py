"""``iocwatch crawl [SOURCE ...]``: collect sources into the index."""

from __future__ import annotations

import json
import sys

import click

from iocwatch.commands._writer import data_writer, wait_option


@click.command()
@click.argument("names", nargs=-1)
@click.option("--sources", "sources_file", type=click.Path(dir_okay=False),
              help="Sources YAML (default: crawl.sources_file or the bundled list).")
@click.option("--watchlists", "watchlists_file", type=click.Path(exists=True, dir_okay=False),
              help="Watchlists YAML (default: crawl.watchlists_file or the bundled examples).")
@click.option("--jobdir", type=click.Path(file_okay=False),
              help="Keep the crawl queue here; stop with Ctrl-C once and rerun to resume.")
@click.option("--full", is_flag=True, help="Re-collect pages already seen (not incremental).")
@click.option("--no-analyse", is_flag=True, help="Store posts without the NLP pipeline.")
@click.option("--check", is_flag=True, help="Only validate the sources and watchlists files and list them.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@wait_option
def crawl(names: tuple[str, ...], sources_file: str | None, watchlists_file: str | None, jobdir: str | None,
          full: bool, no_analyse: bool, check: bool, as_json: bool, wait_s: float) -> None:
    """Crawl SOURCE names from the sources file (all enabled ones when none is given),
    analyse the posts and store them in the index."""
    from core.settings import get_settings
    from crawlers.sources import load_sources, select_sources
    from crawlers.watchlists import load_watchlists

    settings = get_settings()
    if watchlists_file:
        settings.crawl.watchlists_file = watchlists_file
    sources_path = sources_file or settings.crawl.sources_file
    sources = select_sources(load_sources(sources_path), list(names))
    watchlists = load_watchlists(settings.crawl.watchlists_file)
    if check:
        rows = [{"name": s.name, "type": s.type, "url": s.url or s.id, "schedule_s": s.schedule_s,
                 "missing_credentials": s.missing_credentials()} for s in sources]
        if as_json:
            click.echo(json.dumps({"sources": rows, "watchlists": [w.name for w in watchlists]},
                                  ensure_ascii=False, indent=2))
            return
        for r in rows:
            note = f"  (disabled: set {', '.join(r['missing_credentials'])})" if r["missing_credentials"] else ""
            click.echo(f"{r['name']:<24} {r['type']:<9} {r['url']}{note}")
        click.echo(f"{len(rows)} sources, {len(watchlists)} watchlists: OK")
        return

    from iocwatch.flows.listen import listen

    kwargs = {"analyse": None} if no_analyse else {}
    with data_writer(settings, wait_s):
        result = listen(settings, list(names), sources_file=sources_path, jobdir=jobdir,
                        overrides={"IOCWATCH_INCREMENTAL": False} if full else None, **kwargs)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        _echo_result(result)
    if not result["ok"]:
        sys.exit(1)


def _echo_result(result: dict) -> None:
    for rep in result["sources"]:
        if rep.get("disabled"):
            click.echo(f"{rep['source']:<24} disabled: {rep['disabled']}")
            continue
        skipped = rep.get("requests_skipped_seen", 0) + rep.get("counters", {}).get("skipped_seen", 0)
        errs = ", ".join(f"{k}={v}" for k, v in rep.get("error_counts", {}).items())
        click.echo(f"{rep['source']:<24} stored={rep['stored']:<5} spooled={rep.get('spooled', 0):<5} "
                   f"skipped_seen={skipped:<5} errors={rep['errors']}" + (f" ({errs})" if errs else ""))
    click.echo(f"total stored={result['stored']} spooled={result['spooled']} rejected={result['rejected']} "
               f"errors={result['errors']}" + ("" if result["analysed"] else " (not analysed)"))
    if result["spooled"]:
        click.echo(f"warning: {result['spooled']} posts are waiting in the spool {result['spool']!r} because "
                   "the store was unavailable; they reach the index when it is back "
                   f"(`iocwatch serve --replay --name {result['spool']}`)", err=True)
    failed = sum(r.get("error_counts", {}).get("sink_failed", 0) for r in result["sources"])
    if failed:
        click.echo("warning: some posts could not be stored or spooled (see sink_failed above); they "
                   "were not marked as seen and will be collected again by the next run", err=True)
