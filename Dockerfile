# One image for every app service of docker-compose.yml (collector, monitor, dashboard).
# Build: docker compose build   (or: docker build -t iocwatch .)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    IOCWATCH_DATA_DIR=/data

# libpcap: BPF filters for live capture; tini: forwards SIGTERM (to the whole process group, -g,
# so running crawl children stop cleanly too) and `serve` shuts down gracefully.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 tini \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin iocwatch \
 && mkdir -p /data /captures /logs && chown iocwatch:iocwatch /data

WORKDIR /app
# Dependencies first (cached while only the code changes).
COPY pyproject.toml README.md ./
RUN mkdir -p core crawlers nlp security index dashboard iocwatch \
 && for p in core crawlers nlp security index dashboard iocwatch; do touch $p/__init__.py; done \
 && pip install . \
 && pip uninstall -y iocwatch \
 && rm -rf core crawlers nlp security index dashboard iocwatch build *.egg-info
COPY core ./core
COPY crawlers ./crawlers
COPY nlp ./nlp
COPY security ./security
COPY index ./index
COPY dashboard ./dashboard
COPY iocwatch ./iocwatch
COPY scrapy.cfg ./
RUN pip install --no-deps . && iocwatch --help > /dev/null

USER iocwatch
VOLUME ["/data"]
EXPOSE 8501
ENTRYPOINT ["/usr/bin/tini", "-g", "--"]
CMD ["iocwatch", "serve"]
