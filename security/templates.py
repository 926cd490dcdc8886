"""Log lines to templates and variables with drain3, after masking obvious variables first.

Plain Drain groups ~86 % of Loghub lines correctly. Three additions lift that:

* masking: IPs (v4 and v6), hosts, URLs, paths, hex ids, sizes, durations, times and
  numbers become ``<*>`` before Drain sees the line, and a run of variables (a list of
  addresses, ``1190 bytes (1.16 KB)``) becomes one ``<*>``. Masking works token by token
  with a per-miner cache, so a word seen once is never matched against the regexes again;
* Drain's similarity treats a masked variable as matching the template's variable;
* categorical fields: the value of a ``key=value`` pair that Drain turned into ``<*>`` but
  that only ever holds a few plain words (``user=root`` / ``user=guest``) is a category,
  not a parameter, and each word keeps its own template id. Once the field shows more
  words than that, a digit or a masked variable, it is a parameter for good and its
  lines share the cluster's id again. Free text is never split this way (two user names
  after "for" are still one template).

The miner's state (Drain's clusters and the field word counts) is persisted to one file so
template ids stay stable between runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

PARAM = "<*>"
DEFAULT_SIM_TH = 0.87
DEFAULT_DEPTH = 5  # root, length, two leading tokens, leaf ("Failed password" / "Failed none" apart)
SHORT_LINE = 5  # lines of at most this many tokens may differ in one token and still match
FIELD_VALUES = 3  # a key=value field with at most this many words (user=root|guest|test) is a category
MIN_WORD_LINES = 2  # ... and a word of it gets its own template id once seen on this many lines
# Parentheses are not delimiters: LOCAL(0) or sshd(pam_unix) stay one token.
EXTRA_DELIMITERS: tuple[str, ...] = ("=", ",", "[", "]", '"', "'")
TOKEN_CACHE_SIZE = 100_000  # masked tokens remembered per miner (cleared when full)

# Patterns applied to each space-separated token, in order (longer, more specific shapes
# first); each match becomes "<*>". None of them can match a space, so masking a token
# alone gives what masking the whole line would.
MASKS: list[tuple[str, str]] = [
    (r"\b[A-Za-z][\w+.-]*://[^\s\"'<>]*[^\s\"'<>:;,.)]", "URI"),
    (r"(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", "MAC"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "UUID"),
    (r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?![\w.])", "IP"),
    (r"\b(?:[a-zA-Z0-9-]+\.){2,}[a-zA-Z]{2,}(?::\d+)?\b", "HOST"),
    (r"\b(?:[a-zA-Z0-9-]+\.)+(?:com|net|org|edu|gov|vn|io|cn|ru|de|hk|info|biz|local|lan)\b(?::\d+)?", "HOST"),
    (r"(?:(?<=[\s\"'=])|^)/[^\s?]*\?\S*", "URL"),
    (r"(?<![\w/])(?:/[\w.\-@%+~]+){2,}/?", "PATH"),
    (r"\(\)", "EMPTY"),
    (r"\b(?=\w*\d)(?=\w*[A-Za-z])\w{12,}\b", "ID"),
    (r"\b[A-Za-z]+_\d+\w*\b", "ID"),  # broadcast_9, rdd_2_3
    (r"\b0x[0-9a-fA-F]+\b", "HEX"),
    (r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b", "HEX"),
    (r"\bblk_-?\d+\b", "BLK"),
    (r"\b\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?(?![\w-])", "DATE"),
    (r"\b\d{1,2}:\d\d(?::\d\d)?(?:[.,]\d+)?\b", "TIME"),
    (r"(?<![\w.])(?:[0-9A-Fa-f]{1,4}:|:)(?:[0-9A-Fa-f]{0,4}:){1,6}[0-9A-Fa-f]{1,4}(?![\w:])", "IPV6"),
    (r"(?<![\w.])[<>~]?\d+(?:\.\d+)?(?:[KMGTP]i?B|B|bytes?|ms|us|secs?|seconds?|mins?|minutes?|hours?)\b",
     "UNIT"),
    (r"(?<![A-Za-z0-9])[-+]?\d+(?:\.\d+)?(?:[kKmMgG][bB]?|ms|s)?(?![A-Za-z0-9])", "NUM"),
]
# A pattern only runs on a token holding this text (a cheap test that skips most regexes).
_GUARDS = {"URI": "://", "MAC": ":", "UUID": "-", "IP": ".", "HOST": ".", "URL": "?", "PATH": "/", "EMPTY": "()",
           "BLK": "blk_", "DATE": "-", "TIME": ":", "IPV6": ":", "ID": "", "HEX": "", "UNIT": "", "NUM": ""}
_NO_DIGIT_OK = {"URI", "HOST", "URL", "PATH", "EMPTY", "IPV6"}  # patterns that can match without a digit
_TOKEN_MASKS = [(re.compile(p), _GUARDS[n], n not in _NO_DIGIT_OK) for p, n in MASKS]
_HAS_DIGIT = re.compile(r"\d")

# Applied to the whole masked line afterwards (these shapes span spaces).
_SPACED_UNIT = re.compile(r"[<>~]?<\*> (?:[KMGTP]i?B|B|bytes?|ms|us|secs?|seconds?|mins?|minutes?|hours?)\b")
_RUN = re.compile(r"<\*>(?:[\s,;]*(?:<\*>|\(<\*>\)|\[<\*>\]))+")  # a list of variables is one variable
_WEEKDAY_DATE = re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
                           r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +<\*>")  # "Sat Jul  9 22:53:19 2005"


def _mask_token(token: str) -> str:
    if token.isalpha():
        return token
    digit = _HAS_DIGIT.search(token) is not None
    for pattern, guard, needs_digit in _TOKEN_MASKS:
        if (needs_digit and not digit) or (guard and guard not in token):
            continue
        token = pattern.sub(PARAM, token)
    return token


def mask(text: str, cache: dict[str, str] | None = None) -> str:
    """Replace variable-looking tokens with ``<*>``; ``cache`` (token -> masked token) saves the regexes."""
    parts = text.split(" ")
    for n, token in enumerate(parts):
        if token.isdecimal():
            parts[n] = PARAM
            continue
        if cache is None:
            parts[n] = _mask_token(token)
            continue
        masked = cache.get(token)
        if masked is None:
            if len(cache) >= TOKEN_CACHE_SIZE:
                cache.clear()
            masked = cache[token] = _mask_token(token)
        parts[n] = masked
    text = " ".join(parts)
    if PARAM not in text:
        return text
    text = _RUN.sub(PARAM, _SPACED_UNIT.sub(PARAM, text))
    return _WEEKDAY_DATE.sub(PARAM, text)


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
    """drain3 with pre-masking and categorical fields; ``add(line) -> (template_id, template)``.

    A cluster without categorical fields answers with its Drain id; a line whose categorical
    fields hold known words answers with the id of that (cluster, words) group and the
    template with those words filled in. Group ids come from Drain's own id counter; the
    word the cluster started with keeps the cluster's id.

    Args:
        state_path: file for the persisted state (``None`` = in memory only).
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
            Path(state_path).parent.mkdir(parents=True, exist_ok=True)
            persistence = _atomic_persistence(str(state_path))
        self._persistence = persistence
        self._delimiters = tuple(extra_delimiters)
        self._max_clusters = max_clusters
        self.miner = _Miner(persistence, config)
        drain = self.miner.drain
        drain.get_seq_distance = _seq_distance.__get__(drain)
        # Per Drain cluster id: "template" (as last seen), "wild" (its <*> positions),
        # "slots" ({position: {word: lines}} for a categorical field, None for a parameter)
        # and "groups" ({"position=word<TAB>...": template id}). Kept on the Drain object,
        # so drain3 writes it into the same state file as the clusters.
        drain.slot_groups = self._restore_slots()
        self._slots: dict[int, dict] = drain.slot_groups
        self._seen: dict[str, tuple] = {}
        self._token_cache: dict[str, str] = {}

    def _restore_slots(self) -> dict[int, dict]:
        """The field state saved with the clusters (drain3 itself restores only the clusters)."""
        if self._persistence is None:
            return {}
        state = self._persistence.load_state()
        if state is None:
            return {}
        import jsonpickle

        if self.miner.config.snapshot_compress_state:
            import base64
            import zlib

            state = zlib.decompress(base64.b64decode(state))
        saved = getattr(jsonpickle.loads(state, keys=True), "slot_groups", None)
        return saved if isinstance(saved, dict) else {}

    def add(self, line: str) -> tuple[int, str]:
        """Learn from ``line`` and return its template id and current template."""
        masked = mask(line, self._token_cache)
        drain = self.miner.drain
        hit = self._seen.get(masked)  # the same masked shape again: no search at all
        if hit is None:
            tokens = drain.get_content_as_tokens(masked)
            # A line an existing template already covers goes straight there (an exact
            # match is the common case and cheaper than Drain's similarity search).
            cluster = drain.tree_search(drain.root_node, tokens, 1.0, True)
        else:
            cluster, tokens = hit
        if cluster is not None:
            cluster.size += 1
            if hit is None:
                self._remember(masked, cluster, tokens)
        else:
            cluster = drain.id_to_cluster.get(self.miner.add_log_message(masked)["cluster_id"])
        return self._group(cluster, masked, tokens, learn=True)

    def parse(self, line: str) -> tuple[int, str, list[str]]:
        """Learn from ``line``; return its template id, template and variable values."""
        cid, template = self.add(line)
        return cid, template, variables(line, template)

    def _remember(self, masked: str, cluster, tokens: list[str]) -> None:
        if len(self._seen) >= 50_000:
            self._seen.clear()
        self._seen[masked] = (cluster, tokens)

    def _group(self, cluster, masked: str, tokens: list[str], learn: bool) -> tuple[int, str]:
        """The id and template of ``tokens`` in ``cluster``, counting its field words when learning."""
        template = cluster.log_template_tokens
        cid = cluster.cluster_id
        entry = self._slots.get(cid)
        if entry is None:
            if not learn:
                return cid, " ".join(template)
            if self._max_clusters and len(self._slots) >= 2 * self._max_clusters:
                self._forget_evicted()
            entry = self._slots[cid] = {"template": template, "wild": _wild(template), "slots": {}, "groups": {}}
        slots = entry["slots"]
        if learn and entry["template"] is not template:
            old, entry["template"], entry["wild"] = entry["template"], template, _wild(template)
            new = [i for i in entry["wild"] if i not in slots]
            fields = _field_positions(masked, len(tokens), self._delimiters) if new else ()
            seeded = []
            for i in new:
                # Every earlier line of the cluster carried the old template's word here.
                if i in fields and _is_word(old[i]):
                    slots[i] = {old[i]: cluster.size - 1}
                    seeded.append(f"{i}={old[i]}")
                else:
                    slots[i] = None
            if seeded and not entry["groups"]:
                entry["groups"]["\t".join(seeded)] = cid  # those earlier lines keep their id
        key = []
        for i in entry["wild"]:
            counts = slots.get(i, False)
            if counts is None:
                continue
            word = tokens[i]
            if learn:
                if counts is False:  # a <*> from the cluster's first line (or from an older state file)
                    fields = _field_positions(masked, len(tokens), self._delimiters)
                    counts = slots[i] = {} if i in fields else None
                    if counts is None:
                        continue
                n = counts.get(word)
                if n is None:
                    if len(counts) >= FIELD_VALUES or not _is_word(word):
                        _to_parameter(entry, i)
                        continue
                    n = 0
                counts[word] = n + 1
            elif counts is False or word not in counts:
                continue
            if counts[word] >= MIN_WORD_LINES:
                key.append((i, word))
        if not key:
            return cid, " ".join(template)
        name = "\t".join(f"{i}={word}" for i, word in key)
        group = entry["groups"].get(name)
        if group is None:
            self.miner.drain.clusters_counter += 1
            group = entry["groups"][name] = self.miner.drain.clusters_counter
        shape = list(template)
        for i, word in key:
            shape[i] = word
        return group, " ".join(shape)

    def _forget_evicted(self) -> None:
        live = self.miner.drain.id_to_cluster
        for cid in [c for c in self._slots if c not in live]:
            del self._slots[cid]

    def match(self, line: str) -> int | None:
        """The template id ``line`` falls in, without learning; ``None`` for a new shape."""
        masked = mask(line, self._token_cache)
        cluster = self.miner.match(masked, full_search_strategy="fallback")
        if cluster is None:
            return None
        return self._group(cluster, masked, self.miner.drain.get_content_as_tokens(masked), learn=False)[0]

    def templates(self) -> dict[int, str]:
        """Every template id with its template (categorical groups with their words filled in)."""
        out: dict[int, str] = {}
        for c in self.miner.drain.clusters:
            out[c.cluster_id] = c.get_template()
            entry = self._slots.get(c.cluster_id)
            for name, group in (entry["groups"] if entry else {}).items():
                shape = list(c.log_template_tokens)
                for part in name.split("\t"):
                    i, word = part.split("=", 1)
                    shape[int(i)] = word
                out[group] = " ".join(shape)
        return out

    def save(self) -> None:
        """Write the state now (when a state path was given)."""
        if self._persistence is not None:
            self.miner.save_state("explicit save")


def _atomic_persistence(path: str):
    """drain3's file persistence, written atomically: a failed save keeps the old state file."""
    from drain3.file_persistence import FilePersistence

    from core.state import atomic_write_bytes

    class AtomicFilePersistence(FilePersistence):
        def save_state(self, state: bytes) -> None:
            atomic_write_bytes(self.file_path, state)

    return AtomicFilePersistence(path)


def _wild(template: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, t in enumerate(template) if t == PARAM)


def _is_word(token: str) -> bool:
    """A possible category value: no digit and no masked variable in it."""
    return PARAM not in token and _HAS_DIGIT.search(token) is None


def _to_parameter(entry: dict, position: int) -> None:
    """Slot ``position`` is a parameter for good: its words no longer make groups of their own."""
    entry["slots"][position] = None
    prefix = f"{position}="
    entry["groups"] = {name: group for name, group in entry["groups"].items()
                       if not any(part.startswith(prefix) for part in name.split("\t"))}


_KV = re.compile(r"=(?=[^\s=,()\[\]\"'])")  # "=" with a value right after it


def _field_positions(masked: str, count: int, delimiters: tuple[str, ...] = EXTRA_DELIMITERS) -> frozenset[int]:
    """Token positions holding the value of a ``key=value`` pair (none when the tokens do not line up)."""
    text = _KV.sub(" \x01", masked)
    for d in delimiters:
        text = text.replace(d, " ")
    tokens = text.split()
    if len(tokens) != count:
        return frozenset()
    return frozenset(i for i, t in enumerate(tokens) if t[0] == "\x01")


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
