"""``iocwatch security sigma ...`` and ``iocwatch security intel ...``: Sigma rules and threat-intelligence feeds."""

from __future__ import annotations

import json
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
