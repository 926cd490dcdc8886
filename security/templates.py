"""Log lines to templates and variables with drain3, after masking obvious variables first.

Plain Drain groups ~86 % of Loghub lines correctly; masking IPs, hosts, paths, hex ids,
numbers and similar tokens before clustering (and a tuned similarity threshold) lifts
that. The miner's state is persisted to a file so template ids stay stable between runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_SIM_TH = 0.87
DEFAULT_DEPTH = 5  # root, length, two leading tokens, leaf ("Failed password" / "Failed none" apart)
SHORT_LINE = 5  # lines of at most this many tokens may differ in one token and still match
EXTRA_DELIMITERS: tuple[str, ...] = ("=", ",", "(", ")", "[", "]", '"', "'")

# Order matters: longer, more specific shapes first. Each becomes "<*>" before Drain sees it.
MASKS: list[tuple[str, str]] = [
    (r"(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", "MAC"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "UUID"),
    (r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?![\w.])", "IP"),
    (r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} "
     r"\d\d:\d\d:\d\d \d{4}\b", "DATE"),
    (r"\b(?:[a-zA-Z0-9-]+\.){2,}[a-zA-Z]{2,}(?::\d+)?\b", "HOST"),
    (r"\b(?:[a-zA-Z0-9-]+\.)+(?:com|net|org|edu|gov|vn|io|cn|ru|de|hk|info|biz|local|lan)\b(?::\d+)?", "HOST"),
    (r"(?<![\w/])(?:/[\w.\-@%+~]+){2,}/?", "PATH"),
    (r"(?<=\s)/\S*\?\S*", "URL"),
    (r"\(\)", "EMPTY"),
    (r"\b(?=\w*\d)(?=\w*[A-Za-z])\w{12,}\b", "ID"),
    (r"\b0x[0-9a-fA-F]+\b", "HEX"),
    (r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b", "HEX"),
    (r"\bblk_-?\d+\b", "BLK"),
    (r"\b\d{1,2}:\d\d:\d\d(?:[.,]\d+)?\b", "TIME"),
    (r"(?<![A-Za-z])[-+]?\d+(?:\.\d+)?(?:[kKmMgG][bB]?|ms|s)?(?![A-Za-z])", "NUM"),
]


# A pattern only runs when its line holds this character (a cheap test that skips most regexes).
_GUARDS = {"MAC": ":", "UUID": "-", "IP": ".", "DATE": ":", "HOST": ".", "PATH": "/", "URL": "?",
           "EMPTY": "()", "HEX": "", "BLK": "blk_", "TIME": ":", "ID": "", "NUM": ""}
_HAS_DIGIT = re.compile(r"\d")


def mask(text: str, compiled: list[tuple[re.Pattern[str], str]] | None = None) -> str:
    """Replace variable-looking tokens with ``<*>`` (patterns in order, each only where it can match)."""
    if compiled is not None:
        return mask_sequential(text, compiled)
    digit = _HAS_DIGIT.search(text) is not None
    for pattern, _name, guard, needs_digit in _GUARDED:
        if (needs_digit and not digit) or (guard and guard not in text):
            continue
        text = pattern.sub("<*>", text)
    return text


def mask_sequential(text: str, compiled: list[tuple[re.Pattern[str], str]] | None = None) -> str:
    """Replace variable-looking tokens with ``<*>`` (typed placeholders measured worse here)."""
    for pattern, _name in compiled or _COMPILED:
        text = pattern.sub("<*>", text)
    return text


_COMPILED = [(re.compile(p), n) for p, n in MASKS]
_NO_DIGIT_OK = {"DATE", "HOST", "PATH", "URL", "EMPTY"}  # patterns that can match without a digit
_GUARDED = [(re.compile(p), n, _GUARDS.get(n, ""), n not in _NO_DIGIT_OK) for p, n in MASKS]


def _seq_distance(drain, template: list[str], tokens: list[str], include_params: bool) -> tuple[float, int]:
    """Drain's similarity, except that a variable we masked in the line counts as matching
    the template's variable in the same position (plain Drain counts it as a mismatch,
    which splits identical shapes when lines arrive pre-masked)."""
    if not template:
        return 1.0, 0
    param = drain.param_str
    sim = 0
    params = 0
    for t1, t2 in zip(template, tokens, strict=False):
        if t1 == param:
            params += 1
            if include_params or t2 == param:
                sim += 1
        elif t1 == t2:
            sim += 1
    n = len(template)
    if 4 <= n <= SHORT_LINE and sim == n - 1:
        return max(sim / n, drain.sim_th), params  # short lines: one differing token is a variable
    return sim / n, params


class TemplateMiner:
    """drain3 with pre-masking; ``add(line) -> (template_id, template)``; state saved to ``state_path``.

    Args:
        state_path: file for drain3's persisted state (``None`` = in memory only).
        sim_th: Drain similarity threshold; lines at least this similar join a cluster.
        depth: Drain parse-tree depth.
    """

    def __init__(self, state_path: str | Path | None = None, *, sim_th: float = DEFAULT_SIM_TH,
                 depth: int = DEFAULT_DEPTH,
                 max_children: int = 100, max_clusters: int | None = 5000,
                 extra_delimiters: tuple[str, ...] = EXTRA_DELIMITERS):
        from drain3 import TemplateMiner as _Miner
        from drain3.template_miner_config import TemplateMinerConfig

        config = TemplateMinerConfig()
        config.drain_sim_th = sim_th
        config.drain_depth = depth
        config.drain_max_children = max_children
        config.drain_max_clusters = max_clusters
        config.masking_instructions = []  # we mask ourselves (faster, and shared with eval)
        config.parametrize_numeric_tokens = True
        config.drain_extra_delimiters = list(extra_delimiters)
        config.snapshot_interval_minutes = 10 ** 6  # snapshot when we say so (save()), not by timer
        config.profiling_enabled = False
        persistence = None
        if state_path is not None:
            from drain3.file_persistence import FilePersistence

            Path(state_path).parent.mkdir(parents=True, exist_ok=True)
            persistence = FilePersistence(str(state_path))
        self._persistence = persistence
        self.miner = _Miner(persistence, config)
        self.miner.drain.get_seq_distance = _seq_distance.__get__(self.miner.drain)
        self._seen: dict[str, object] = {}

    def add(self, line: str) -> tuple[int, str]:
        """Learn from ``line`` and return its cluster id and current template."""
        masked = mask(line)
        cluster = self._seen.get(masked)  # the same masked shape again: no search at all
        if cluster is None:
            # A line an existing template already covers goes straight there (an exact
            # match is the common case and cheaper than Drain's similarity search).
            cluster = self.miner.match(masked, full_search_strategy="never")
        if cluster is not None:
            cluster.size += 1
            self._remember(masked, cluster)
            return int(cluster.cluster_id), cluster.get_template()
        result = self.miner.add_log_message(masked)
        return int(result["cluster_id"]), str(result["template_mined"])

    def parse(self, line: str) -> tuple[int, str, list[str]]:
        """Learn from ``line``; return its cluster id, template and variable values."""
        cid, template = self.add(line)
        return cid, template, variables(line, template)

    def _remember(self, masked: str, cluster) -> None:
        if len(self._seen) >= 50_000:
            self._seen.clear()
        self._seen[masked] = cluster

    def match(self, line: str) -> int | None:
        """The id of the cluster ``line`` falls in, without learning; ``None`` for a new shape."""
        cluster = self.miner.match(mask(line), full_search_strategy="fallback")
        return None if cluster is None else int(cluster.cluster_id)

    def templates(self) -> dict[int, str]:
        return {c.cluster_id: c.get_template() for c in self.miner.drain.clusters}

    def save(self) -> None:
        """Write the state now (when a state path was given)."""
        if self._persistence is not None:
            self.miner.save_state("explicit save")


def _tokens(text: str, delimiters: tuple[str, ...] = EXTRA_DELIMITERS) -> list[str]:
    for d in delimiters:
        text = text.replace(d, " ")
    return text.split()


def variables(line: str, template: str) -> list[str]:
    """The values in ``line`` at the template's ``<*>`` positions (empty when they do not align)."""
    tokens, shape = _tokens(line), template.split()
    if len(tokens) == len(shape):
        return [tok for tok, t in zip(tokens, shape, strict=True) if t == "<*>"]
    parts = [r"(.+?)" if t == "<*>" else re.escape(t).replace(re.escape("<*>"), r"\S*?") for t in shape]
    m = re.fullmatch(r"\s+".join(parts), " ".join(tokens))
    return list(m.groups()) if m else []


def grouping_accuracy(truth: list[str], predicted: list[int | str]) -> float:
    """Loghub grouping accuracy: share of lines whose predicted group equals their true group exactly."""
    if not truth:
        return 0.0
    by_truth: dict[str, set[int]] = {}
    by_pred: dict[int | str, set[int]] = {}
    for i, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        by_truth.setdefault(t, set()).add(i)
        by_pred.setdefault(p, set()).add(i)
    correct = 0
    for members in by_pred.values():
        first = next(iter(members))
        if by_truth[truth[first]] == members:
            correct += len(members)
    return correct / len(truth)


def group_lines(lines: Iterable[str], **kwargs) -> list[int]:
    """Cluster ids for each line, fitted on all of them (then re-matched, as Loghub evaluates)."""
    miner = TemplateMiner(None, **kwargs)
    items = list(lines)
    for line in items:
        miner.add(line)
    out: list[int] = []
    for line in items:
        cid = miner.match(line)
        out.append(cid if cid is not None else -1)
    return out
