"""The spiders, one per source type; each collects one configured source per run."""
