"""``iocwatch nlp``: train and evaluate classifiers, analyse text with the pipeline."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from core.settings import get_settings


@click.group()
def nlp() -> None:
    """Vietnamese NLP: train/evaluate topic, sentiment and toxicity models; analyse text."""


@nlp.command()
@click.option("--task", type=click.Choice(["topic", "sentiment", "toxicity"]), required=True)
@click.option("--data", "data", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Labelled JSONL, one object per line.")
@click.option("--text-field", default="text", show_default=True)
@click.option("--label-field", default="label", show_default=True)
@click.option("--backend", type=click.Choice(["linear", "transformers"]), default="linear",
              show_default=True)
@click.option("--base", default=None,
              help="transformers backend: base model (Hugging Face id or local directory).")
@click.option("--epochs", default=3, show_default=True, help="transformers backend: epochs.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Directory to write the model to.")
def train(task: str, data: Path, text_field: str, label_field: str, backend: str,
          base: str | None, epochs: int, out: Path) -> None:
    """Train a classifier and save it with its provenance (meta.json)."""
    from nlp.train import train as run

    command = "iocwatch nlp " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 2 and sys.argv[1] == "nlp" else None
    meta = run(task, data, out, text_field=text_field, label_field=label_field, backend=backend,
               base=base, epochs=epochs, device=get_settings().nlp.device, command=command)
    click.echo(json.dumps({"out": str(out), "task": meta["task"], "backend": meta["backend"],
                           "labels": meta["labels"], "n_train": meta["n_train"],
                           "skipped_rows": meta["skipped_rows"]}, ensure_ascii=False))


@nlp.command("eval")
@click.option("--model", "model", required=True, help="Model directory or default:TASK.")
@click.option("--data", "data", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--text-field", default="text", show_default=True)
@click.option("--label-field", default="label", show_default=True)
@click.option("--label-map", default=None,
              help="Map data labels to model labels, e.g. '0:negative,1:neutral,2:positive'.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def evaluate(model: str, data: Path, text_field: str, label_field: str, label_map: str | None,
             as_json: bool) -> None:
    """Evaluate a model on labelled JSONL: accuracy, macro/weighted F1, per-class figures."""
    from nlp.train import evaluate as run

    result = run(model, data, text_field=text_field, label_field=label_field,
                 label_map=label_map, device=get_settings().nlp.device)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"n={result['n']} accuracy={result['accuracy']:.4f} "
               f"macro_f1={result['macro_f1']:.4f} weighted_f1={result['weighted_f1']:.4f}")
    for label, row in result["per_class"].items():
        click.echo(f"  {label:<24} p={row['precision']:.4f} r={row['recall']:.4f} "
                   f"f1={row['f1']:.4f} n={row['support']}")


@nlp.command()
@click.argument("text", required=False)
@click.option("--file", "file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A text file: one post per line.")
def analyse(text: str | None, file: Path | None) -> None:
    """Run the configured pipeline on TEXT (or each line of --file); print one JSON per post."""
    from core.documents import Post
    from nlp.pipeline import load_pipeline

    if text is None and file is None:
        raise click.UsageError("give TEXT or --file")
    lines = [text] if text is not None else file.read_text(encoding="utf-8").splitlines()
    posts = [Post(id=f"cli-{i}", source="cli", platform="other", text=line)
             for i, line in enumerate(lines)]
    pipeline = load_pipeline(get_settings())
    for post in pipeline.pipe(posts):
        doc = post.to_doc()
        keep = ("text", "text_normalized", "language", "topics", "sentiment", "sentiment_score",
                "toxicity", "toxicity_score", "entities", "places", "keywords", "flags",
                "analysis_errors")
        click.echo(json.dumps({k: doc[k] for k in keep}, ensure_ascii=False))


# ---- the correction loop --------------------------------------------------------------------
_TASK = click.Choice(["topic", "sentiment", "toxicity"])


def _operator() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


def _retrain_lines(report: dict) -> list[str]:
    held_how = {"audit": "the audit sample, asked label-blind in the review queue",
                "stratified": "a share per label: too few audit-sample corrections"}
    lines = [f"{report['task']}: {report['n_corrections']} corrections "
             f"({', '.join(f'{k} {v}' for k, v in report['label_counts'].items())}); "
             f"{report['n_heldout']} held back for the comparison "
             f"({held_how.get(report.get('heldout_kind'), report.get('heldout_kind'))})"]
    w = report.get("weighting") or {}
    if w:
        how = (f"chosen by {w['folds']}-fold CV over the corrections, macro-F1 {w['cv_macro_f1']:.4f}"
               if w.get("folds") else "not chosen: one pair, or too few corrections per label")
        lines.append(f"  SVM C: corpus {w['corpus_c']:g}, corrections {w['correction_c']:g} ({how})")
    for name, ev in report["evaluations"].items():
        lines.append(f"  {name}:")
        for side in ("current", "candidate"):
            figures = ev[side]
            who = report["current"] if side == "current" else report["candidate"]
            per = " ".join(f"{k}={v:.3f}" for k, v in figures["per_class_f1"].items())
            lines.append(f"    {side:<9} {who:<8} n={figures['n']} macro_f1={figures['macro_f1']:.4f} "
                         f"accuracy={figures['accuracy']:.4f}  {per}")
    verdict = "promoted: now in use" if report["promoted"] else "kept aside, not promoted"
    lines.append(f"{report['candidate']} {verdict} ({report['reason']})")
    return lines


@nlp.command()
@click.option("--task", type=_TASK, required=True)
@click.option("--eval", "eval_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=None, help="A labelled JSONL file to compare the two models on as well.")
@click.option("--eval-label-field", default=None, help="Label field of --eval (default: the task name).")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="If another retraining is running, wait up to this many seconds for it.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def retrain(task: str, eval_file: Path | None, eval_label_field: str | None, wait_s: float,
            as_json: bool) -> None:
    """Train on the shipped corpus plus the operators' corrections; promote if not worse.

    Both the model in use and the candidate are evaluated on the held-back corrections (those
    of the audit sample, which the review queue asks about label-blind) and on --eval FILE;
    the candidate becomes a new version either way and is put in use only if its macro-F1 is
    not lower on any of them. The SVM's C for corpus sentences and for corrections is chosen
    by cross-validation over the other corrections (learn.corpus_c, learn.correction_c).
    """
    from iocwatch.flows.learn import retrain_task

    report = retrain_task(get_settings(), task, eval_file=eval_file, eval_label_field=eval_label_field,
                          by=_operator(), wait_s=wait_s)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for line in _retrain_lines(report):
        click.echo(line)


@nlp.command("models")
@click.option("--task", type=_TASK, multiple=True, help="Only these tasks (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
def models_cmd(task: tuple[str, ...], as_json: bool) -> None:
    """List model versions per task (shipped, v1, v2...) with their figures; * marks the one in use."""
    from iocwatch.flows.learn import list_models

    rows = list_models(get_settings(), task)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        mark = "*" if row["current"] else " "
        line = f"{mark} {row['task']:<10} {row['version']:<8} trained {row.get('trained_at') or '?'}"
        if row.get("n_corrections") is not None:
            line += f"  corrections={row['n_corrections']} from={row.get('parent')} by={row.get('by')}"
            line += "  promoted" if row.get("promoted") else "  not promoted"
            for name, ev in (row.get("evaluations") or {}).items():
                line += f"  [{name}: was {ev['current']:.4f}, this {ev['candidate']:.4f}]"
        click.echo(line)


@nlp.command()
@click.option("--task", type=_TASK, required=True)
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="If a retraining is running, wait up to this many seconds for it.")
def rollback(task: str, wait_s: float) -> None:
    """Put back in use the version of TASK that was in use before the current one."""
    from iocwatch.flows.learn import rollback_task

    out = rollback_task(get_settings(), task, by=_operator(), wait_s=wait_s)
    click.echo(f"{out['task']}: {out['from']} -> {out['to']} (now in use)")


@nlp.command()
@click.option("--since", default=None, help="Only posts published since (ISO date or now-7d).")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="If another iocwatch run is writing to the data directory, wait this long.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
def reanalyze(since: str | None, wait_s: float, as_json: bool) -> None:
    """Relabel stored posts with the models in use; operators' labels are never overwritten."""
    from tqdm import tqdm

    from iocwatch.commands._writer import data_writer
    from iocwatch.flows.learn import reanalyze as run

    settings = get_settings()
    with data_writer(settings, wait_s), tqdm(desc="re-analyse", unit=" posts", disable=as_json,
                                             file=sys.stderr) as bar:
        counts = run(settings, since=since, progress=bar.update)
    if as_json:
        click.echo(json.dumps(counts))
        return
    click.echo(f"{counts['posts']} posts re-analysed: {counts['changed']} changed labels, "
               f"{counts['human_kept']} kept their operators' labels, {counts['rejected']} rejected")


@nlp.command("corrections")
@click.option("--task", type=_TASK, default=None,
              help="Only corrections of this task (required with --withdraw).")
@click.option("--withdraw", "withdraw_id", metavar="POST_ID", default=None,
              help="Withdraw the --task correction(s) of this post instead of listing: its label goes "
                   "back to the model's, and re-crawls and retraining no longer use the correction.")
@click.option("--by", default=None, help="Who withdraws (default: cli:<login name>); kept in the journal.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list (or, with --withdraw, one object).")
def corrections_cmd(task: str | None, withdraw_id: str | None, by: str | None, as_json: bool) -> None:
    """List the operators' corrections in force, newest first, or withdraw one made by mistake.

    Each row: the post id, the task, the label in force, the label before the first
    correction (what a withdrawal gives back), who corrected it and when. Corrections come
    from the corrections journal (<data dir>/corrections/journal.jsonl), so posts no longer
    in the index are listed too ("not stored").

    With --withdraw POST_ID --task TASK, the post's corrections of TASK are withdrawn as the
    dashboard's "Hoàn tác" button does, with the administrator's role; a post no longer in
    the index is withdrawn in the journal only, so collecting it again does not bring the
    label back. Post ids are listed here and shown by `iocwatch search --json`.

    \b
    Examples:
      iocwatch nlp corrections --task sentiment
      iocwatch nlp corrections --withdraw POST_ID --task sentiment --by lan
    """
    from index import open_store
    from index.corrections import corrections_in_force, journal_of, withdraw_correction

    if withdraw_id is not None and task is None:
        raise click.UsageError("--withdraw needs --task (topic, sentiment or toxicity)")
    if withdraw_id is None and by is not None:
        raise click.UsageError("--by goes with --withdraw")
    store = open_store(get_settings())
    try:
        if withdraw_id is not None:
            post = withdraw_correction(store, withdraw_id, task, by=by or _operator(), role="admin")
            label = post.label_of(task) if post is not None else None
            if as_json:
                click.echo(json.dumps({"post_id": withdraw_id, "task": task, "withdrawn": True,
                                       "stored": post is not None, "label": label}, ensure_ascii=False))
            elif post is None:
                click.echo(f"{withdraw_id}: {task} correction withdrawn in the journal (the post is not "
                           "in the index; collecting it again will not bring the label back)")
            else:
                click.echo(f"{withdraw_id}: {task} correction withdrawn; the label is back to "
                           f"{label or '-'}")
            return
        rows = corrections_in_force(store, journal_of(store), task)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    click.echo(f"{len(rows)} correction(s) in force")
    for r in rows:
        more = f" ({r['n']} corrections)" if r["n"] > 1 else ""
        where = "" if r["stored"] else "  not stored"
        click.echo(f"{r['at'][:19]}  {r['post_id']}  {r['task']:<9} {r['before'] or '-'} -> {r['label']}  "
                   f"by {r['by']}{more}{where}")
