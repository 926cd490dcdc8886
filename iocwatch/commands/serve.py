"""``iocwatch serve``: collection, analysis, monitoring and spike detection on their schedules."""

from __future__ import annotations

import json
import sys

import click

from iocwatch.commands._writer import POSTS, SECURITY, data_writer, wait_option


@click.command()
@click.option("--once", is_flag=True, help="Run every job once, then exit.")
@click.option("--short", is_flag=True, help="Run every job every serve.short_schedule_s seconds.")
@click.option("--only", multiple=True, help="Only these jobs or sources (e.g. spikes, baocantho).")
@click.option("--demo", is_flag=True,
              help="Serve the demo site on 127.0.0.1 (with an injected crisis) and collect it.")
@click.option("--max-seconds", type=float, default=None, help="Stop after this many seconds.")
@click.option("--status", "show_status", is_flag=True,
              help="Print the running service's heartbeat, run status and spool backlog.")
@click.option("--healthy", is_flag=True,
              help="Exit 0 when a service is running here (container healthchecks), else 1.")
@click.option("--replay", is_flag=True, help="Replay the spool into the store once, then exit.")
@click.option("--name", default="serve", show_default=True,
              help="Name of this service (its heartbeat and spool); one per container.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@wait_option
def serve(once: bool, short: bool, only: tuple[str, ...], demo: bool, max_seconds: float | None,
          show_status: bool, healthy: bool, replay: bool, name: str, as_json: bool, wait_s: float) -> None:
    """Run the service until SIGTERM (graceful: running jobs finish, the spool is flushed)."""
    from core.settings import get_settings

    settings = get_settings()
    if healthy:
        from iocwatch.ops.service import healthy as is_healthy

        ok, why = is_healthy(settings, name, max_age_s=max(120.0, 4 * settings.serve.short_schedule_s))
        click.echo(why)
        sys.exit(0 if ok else 1)
    if show_status:
        click.echo(json.dumps(status(settings, name), ensure_ascii=False, indent=1, default=str))
        return
    if replay:
        from iocwatch.ops.spool import open_spooled_store

        with data_writer(settings, wait_s, scopes=[POSTS, SECURITY]):
            store = open_spooled_store(settings, name)
            try:
                out = store.flush(force=True)
            finally:
                store.close()
        click.echo(f"replayed {out.batches} batch(es), {len(out.stored)} documents; "
                   f"{out.remaining} left" + (f" (store: {out.unavailable})" if out.unavailable else ""))
        sys.exit(0 if out.unavailable is None else 1)
    summary = run_service(settings, once=once, short=short or demo, only=list(only) or None,
                          demo=demo, max_seconds=max_seconds, name=name, wait_s=wait_s)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
        return
    for name, job in summary["jobs"].items():
        last = job["last"]
        state = "ok" if last.get("ok") else f"FAILED: {last.get('error')}"
        figures = ", ".join(f"{k}={v}" for k, v in last.items()
                            if k not in ("ok", "error") and not isinstance(v, dict | list))
        click.echo(f"  {name:<28} runs={job['runs']:<3} {state}  {figures}")


def service_scopes(job_names: list[str]) -> list[str]:
    """The writer scopes a service holds for its life: ``posts`` when it collects (sources,
    left-over hand-over files, spikes), ``security`` when it monitors captures or logs."""
    scopes = set()
    for job in job_names:
        kind = job.split(":", 1)[0]
        if kind in ("source", "outbox", "spikes"):
            scopes.add(POSTS)
        elif kind == "monitor":
            scopes.add(SECURITY)
    return sorted(scopes)


def run_service(settings, *, once: bool = False, short: bool = False, only: list[str] | None = None,
                demo: bool = False, max_seconds: float | None = None, name: str = "serve",
                wait_s: float = 0.0) -> dict:
    """Build and run the service (with the demo site when ``demo``); returns its summary.

    The service holds the writer locks of what its jobs write (:func:`service_scopes`) for
    its whole life, so a hand-run import or monitor of the same kind is refused meanwhile.
    """
    import os
    from contextlib import ExitStack

    from iocwatch.ops.service import Service

    with ExitStack() as stack:
        env: dict[str, str] = {}
        if demo:
            from crawlers.demo_site.generator import DEMO_ENV, serve_demo
            from iocwatch.ops.demo import spike_posts

            path = settings.path("demo", "serve-sources.yaml")
            _server, _content, written = stack.enter_context(
                serve_demo(extra_posts=spike_posts(), sources_path=path))
            env.update(DEMO_ENV)
            os.environ.update(DEMO_ENV)  # API sources read their (demo) keys from the environment
            crawl = settings.crawl.model_copy(update={"sources_file": str(written)})
            settings = settings.model_copy(update={"crawl": crawl})
        service = Service(settings, short=short, once=once, only=only, env=env, name=name)
        service.build()
        stack.enter_context(data_writer(settings, wait_s, purpose=f"iocwatch serve --name {name}",
                                        scopes=service_scopes([j.name for j in service.jobs])))
        service.install_signal_handlers()
        return service.run(max_seconds=max_seconds)


def status(settings, name: str = "serve") -> dict:
    """Heartbeat, per-source and per-monitor run status, and the spool backlog."""
    from core.status import read_status
    from iocwatch.ops.service import read_heartbeat
    from iocwatch.ops.spool import spool_status

    return {"service": read_heartbeat(settings, name), "status": read_status(settings.data_dir),
            "spool": spool_status(settings)}
