"""Serve the demo site until interrupted: ``python -m crawlers.demo_site [--port N] [--sources FILE]``."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from crawlers.demo_site.generator import DEMO_ENV, serve_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.demo_site")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sources", default="demo-sources.yaml", help="where to write the sources YAML")
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", stream=sys.stderr)
    log = logging.getLogger("crawlers.demo_site")
    with serve_demo(args.seed, sources_path=args.sources) as (server, content, path):
        log.info("serving %d items on %s; sources in %s", len(content.items), server.base_url, path)
        log.info("API sources need: %s", " ".join(f"{k}={v}" for k, v in DEMO_ENV.items()))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
