"""``iocwatch security``: evaluate the detectors and the template miner on any labelled split."""

from __future__ import annotations

import json

import click


def _out(result: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


@click.group()
def security() -> None:
    """Evaluation of the security detectors and log templates."""


@security.command("eval-records")
@click.option("--train", type=click.Path(exists=True, dir_okay=False), required=True, help="Training CSV.")
@click.option("--test", type=click.Path(exists=True, dir_okay=False), required=True, help="Test CSV.")
@click.option("--label-field", required=True, help="Column holding the label.")
@click.option("--normal-value", required=True, help="Label value of normal rows (e.g. normal or 0).")
@click.option("--fit-on", type=click.Choice(("normal", "all")), default="normal", show_default=True,
              help="Fit on the normal train rows, or on all of them as unlabelled data.")
@click.option("--detector", help="ecod | iforest | copod | hbos | ensemble (default: security.detector).")
@click.option("--contamination", type=float, help="Default: security.contamination.")
@click.option("--ignore", multiple=True, help="Columns never used as features (label-like ones are dropped anyway).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_records_cmd(train, test, label_field, normal_value, fit_on, detector, contamination, ignore, as_json):
    """Score tabular connection records (e.g. NSL-KDD): ROC-AUC, PR-AUC, precision, recall, F1."""
    from core.settings import get_settings
    from security.evaluation import eval_records

    cfg = get_settings().security
    _out(eval_records(train, test, label_field=label_field, normal_value=normal_value, fit_on=fit_on,
                      detector=detector or cfg.detector, contamination=contamination or cfg.contamination,
                      ignore=tuple(ignore)), as_json)


@security.command("eval-sessions")
@click.option("--train", type=click.Path(exists=True, dir_okay=False), required=True,
              help='JSONL of {"events": [...], "label": 0|1}; fitted on its normal sessions.')
@click.option("--test", type=click.Path(exists=True, dir_okay=False), required=True, help="JSONL to score.")
@click.option("--detector", help="ecod | iforest | copod | hbos | ensemble (default: security.detector).")
@click.option("--contamination", type=float, help="Default: security.contamination.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_sessions_cmd(train, test, detector, contamination, as_json):
    """Score log-event sessions (e.g. HDFS blocks) as template-count vectors."""
    from core.settings import get_settings
    from security.evaluation import eval_sessions

    cfg = get_settings().security
    _out(eval_sessions(train, test, detector=detector or cfg.detector,
                       contamination=contamination or cfg.contamination), as_json)


@security.command("eval-templates")
@click.option("--structured", type=click.Path(exists=True, dir_okay=False), required=True,
              help="Loghub-style CSV with Content and ground-truth EventId.")
@click.option("--sim-th", type=float, help="Drain similarity threshold (default: the tuned one).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_templates_cmd(structured, sim_th, as_json):
    """Grouping accuracy of the template miner against ground-truth event ids."""
    from security.evaluation import eval_templates

    _out(eval_templates(structured, sim_th=sim_th), as_json)


@security.command("eval")
@click.option("--scenario-seed", "seeds", type=int, multiple=True, required=True,
              help="Seed of a generated scenario (attack families over benign traffic); repeat for several.")
@click.option("--hours", type=float, default=24.0, show_default=True, help="Length of the monitored period.")
@click.option("--learn-hours", type=float, default=24.0, show_default=True, help="Benign learning period.")
@click.option("--per-kind", type=int, default=2, show_default=True, help="Attacks injected per kind.")
@click.option("--batch-s", type=float, default=900.0, show_default=True,
              help="Monitor batch length (the analytics carry their state from batch to batch).")
@click.option("--via-files", is_flag=True,
              help="Write the traffic as Zeek conn/dns, auth.log and access.log files and read them back.")
def eval_scenario_cmd(seeds, hours, learn_hours, per_kind, batch_s, via_files):
    """Detection per attack kind on generated scenarios, and false alerts per benign host-hour (JSON)."""
    from core.settings import get_settings
    from security.scenario_eval import combine, evaluate

    cfg = get_settings().security
    results = [evaluate(s, hours=hours, learn_hours=learn_hours, per_kind=per_kind, batch_s=batch_s, config=cfg,
                        via_files=via_files) for s in seeds]
    out = results[0] if len(results) == 1 else {**combine(results), "runs": results}
    click.echo(json.dumps(out, ensure_ascii=False, indent=1))


from iocwatch.commands.sigma_intel import intel, sigma  # noqa: E402  (subcommand groups of their own module)

security.add_command(sigma)
security.add_command(intel)
