"""Child-process entry point: ``python -m crawlers.run --sources F --out posts.jsonl --report r.json [NAMES]``.

Used by :func:`crawlers.runner.run_crawl_subprocess`; posts go to a JSONL file, the
per-source reports to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.run")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--sources", required=True)
    parser.add_argument("--watchlists")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--jobdir")
    parser.add_argument("--scrapy-settings", default="{}")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=os.environ.get("IOCWATCH_LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    from core.settings import load_settings
    from crawlers.pipelines import JsonlSink
    from crawlers.runner import run_crawl
    from crawlers.sources import load_sources, select_sources

    overrides: dict = {"data_dir": Path(args.data_dir)}
    settings = load_settings(**overrides)
    if args.watchlists:
        settings.crawl.watchlists_file = args.watchlists
    settings.crawl.sources_file = args.sources
    sources = select_sources(load_sources(args.sources), args.names)
    reports = run_crawl(settings, sources, sink=JsonlSink(args.out), jobdir=args.jobdir,
                        overrides=json.loads(args.scrapy_settings), progress=False)
    tmp = Path(args.report + ".tmp")
    tmp.write_text(json.dumps(reports, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
