"""Security detection quality on the public datasets (fitting on normal data only).

    .venv/bin/python bench/security_quality.py [--json] [--datasets ../shared/datasets]

* NSL-KDD (Tavallaee et al. 2009): fit on the normal rows of four fifths of the dev file
  (KDDTrain+_20Percent), score the remaining fifth; target ROC-AUC >= 0.96.
* HDFS block sessions (DeepLog preprocessing of HDFS_v1, Xu et al. 2009): fit on the
  normal sessions of half the dev file, score the other half; targets F1 >= 0.93,
  ROC-AUC >= 0.97 (note: this folder is 78 % anomalous).
* Loghub 2k (Zhu et al. 2023): grouping accuracy on each system's dev half; targets
  average >= 0.87, OpenSSH and Linux >= 0.90.

Splits are seeded and written to a temporary folder (never into the repository);
scoring goes through the same functions as ``iocwatch security eval-*``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from security.evaluation import eval_records, eval_sessions, eval_templates

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--datasets", default=str(ROOT.parent / "shared" / "datasets"))
    ap.add_argument("--detector", default="ecod")
    args = ap.parse_args()
    data = Path(args.datasets)
    out: dict = {"detector": args.detector}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with open(data / "nsl_kdd" / "KDDTrain+_20Percent.csv", newline="") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        random.Random(42).shuffle(body)
        cut = len(body) * 4 // 5
        for name, part in (("train.csv", body[:cut]), ("test.csv", body[cut:])):
            with open(tmp / name, "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                w.writerows(part)
        out["nsl_kdd"] = eval_records(tmp / "train.csv", tmp / "test.csv", label_field="label",
                                      normal_value="normal", detector=args.detector)
        lines = (data / "hdfs_deeplog_sessions" / "dev.jsonl").read_text().splitlines()
        random.Random(42).shuffle(lines)
        half = len(lines) // 2
        (tmp / "h_train.jsonl").write_text("\n".join(lines[:half]) + "\n")
        (tmp / "h_test.jsonl").write_text("\n".join(lines[half:]) + "\n")
        out["hdfs"] = eval_sessions(tmp / "h_train.jsonl", tmp / "h_test.jsonl", detector=args.detector)
    loghub = {}
    for system in sorted(p for p in (data / "loghub_2k").iterdir() if p.is_dir()):
        loghub[system.name] = eval_templates(system / f"{system.name}_dev.log_structured.csv")["grouping_accuracy"]
    out["loghub"] = {"per_system": loghub, "average": round(sum(loghub.values()) / len(loghub), 4)}
    out["targets"] = {
        "nsl_kdd_roc_auc>=0.96": out["nsl_kdd"]["roc_auc"] >= 0.96,
        "hdfs_f1>=0.93": out["hdfs"]["f1"] >= 0.93,
        "hdfs_roc_auc>=0.97": out["hdfs"]["roc_auc"] >= 0.97,
        "loghub_average>=0.87": out["loghub"]["average"] >= 0.87,
        "loghub_openssh>=0.90": loghub.get("OpenSSH", 0) >= 0.90,
        "loghub_linux>=0.90": loghub.get("Linux", 0) >= 0.90,
    }
    out["seconds"] = round(time.time() - t0, 1)
    sys.stdout.write((json.dumps(out) if args.json else json.dumps(out, indent=1)) + "\n")


if __name__ == "__main__":
    main()
