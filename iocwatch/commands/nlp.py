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
