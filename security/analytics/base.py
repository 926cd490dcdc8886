"""The contract every behaviour analytic follows, the findings it returns and the context it shares.

An analytic watches records over a long horizon (hours) and keeps what it needs in plain,
JSON-serialisable state, so a run can stop and the next one can carry on:

* :meth:`Analytic.learn` sees the baseline records (``monitor learn``) and builds the
  entity's own baseline; :meth:`Analytic.observe` sees monitored records;
* :meth:`Analytic.detect` returns :class:`Finding` objects for entities whose behaviour
  over the horizon crosses its thresholds (``now`` is the data's time, not the clock);
* :meth:`Analytic.state` / :meth:`Analytic.load` dump and restore the state; old entries
  are pruned beyond the horizon, so the state stays bounded.

Analytics never import :mod:`security.monitor`: the monitor hands them records and
collects findings. Defaults live in each module's ``DEFAULTS`` (one comment per key);
``security.analytics.<name>.<key>`` in the settings overrides them.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import median
from typing import Any, ClassVar

from security.rules import Detection


@dataclass
class Finding(Detection):
    """A :class:`~security.rules.Detection` from an analytic, with the entity's own baseline figures.

    ``observed[name]`` is compared with ``baselines[name]`` (the entity's or its peers'
    figure from the learning period; ``None`` when it had none) in the alert's explanation.
    ``key`` identifies the behaviour (e.g. ``src->dst``) so it is raised once per re-alert period.
    """

    baselines: dict[str, float | None] = field(default_factory=dict)
    key: str = ""


class Context:
    """What every analytic may consult: the internal networks and the learnt graph of who talks to whom.

    ``dst_hosts`` (destination -> internal sources seen contacting it, baseline and since) gives a
    destination's prevalence; ``host_dsts`` (internal source -> destinations in the baseline)
    says whether a destination is new for a host.
    """

    def __init__(self, internal_networks: Iterable[str]):
        self.nets = [ipaddress.ip_network(n, strict=False) for n in internal_networks]
        self._internal: dict[str, bool] = {}
        self.dst_hosts: dict[str, set[str]] = {}
        self.host_dsts: dict[str, set[str]] = {}
        self.max_prevalence_hosts = 64  # sources remembered per destination (enough to call it common)
        self.c2: set[str] = set()  # "src>dst" pairs found beaconing (exfiltration over them is T1041)

    def internal(self, ip: str | None) -> bool:
        if not ip:
            return False
        v = self._internal.get(ip)
        if v is None:
            try:
                addr = ipaddress.ip_address(ip)
                v = any(addr in n for n in self.nets)
            except ValueError:
                v = False
            if len(self._internal) < 200_000:
                self._internal[ip] = v
        return v

    def seen(self, src: str, dst: str, learning: bool) -> None:
        hosts = self.dst_hosts.get(dst)
        if hosts is None:
            hosts = self.dst_hosts[dst] = set()
        if len(hosts) < self.max_prevalence_hosts:
            hosts.add(src)
        if learning:
            self.host_dsts.setdefault(src, set()).add(dst)

    def prevalence(self, dst: str) -> int:
        return len(self.dst_hosts.get(dst, ()))

    def known(self, src: str, dst: str) -> bool:
        return dst in self.host_dsts.get(src, ())

    def state(self) -> dict[str, Any]:
        return {"dst_hosts": {k: sorted(v) for k, v in self.dst_hosts.items()},
                "host_dsts": {k: sorted(v) for k, v in self.host_dsts.items()}, "c2": sorted(self.c2)}

    def load(self, state: dict[str, Any]) -> None:
        self.dst_hosts = {k: set(v) for k, v in state.get("dst_hosts", {}).items()}
        self.host_dsts = {k: set(v) for k, v in state.get("host_dsts", {}).items()}
        self.c2 = set(state.get("c2", []))


class Analytic:
    """Base class of a behaviour analytic (see the module docstring for the contract).

    Class attributes: ``name`` (settings key and rule name), ``technique`` and
    ``technique_name`` (ATT&CK), ``records`` (the record types it is fed), ``DEFAULTS``
    (thresholds, each with a comment in the subclass; every analytic has ``enabled``,
    ``risk`` and a ``horizon_s``). ``cfg`` is the merged configuration; ``ctx`` the shared
    :class:`Context`; ``dirty`` the keys touched since the last :meth:`detect`.
    """

    name: ClassVar[str] = ""
    records: ClassVar[tuple[type, ...]] = ()
    technique: ClassVar[str] = ""
    technique_name: ClassVar[str] = ""
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, cfg: dict[str, Any], ctx: Context, max_evidence: int = 5):
        self.cfg = cfg
        self.ctx = ctx
        self.max_evidence = max_evidence
        self.dirty: set = set()  # keys touched since the last detect()

    # records -----------------------------------------------------------------------
    def learn(self, rec: Any) -> None:
        """Fold one baseline record into the learnt baseline (default: nothing to learn)."""

    def finish_learning(self) -> None:
        """Called once after the last baseline record."""

    def observe(self, rec: Any) -> None:
        """Fold one monitored record into the state."""
        raise NotImplementedError

    def detect(self, now: float) -> list[Finding]:
        """Findings for the keys touched since the last call, judged over the horizon ending at ``now``."""
        raise NotImplementedError

    # state ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """JSON-serialisable state (baseline and running)."""
        return {}

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state`'s output."""

    # helpers -------------------------------------------------------------------------
    def finding(self, *, entity: str, first: float, last: float, count: int, title: str, risk: float | None = None,
                technique: str | None = None, technique_name: str | None = None, **kw: Any) -> Finding:
        return Finding(rule=self.name, technique=technique or self.technique,
                       technique_name=technique_name or self.technique_name, entity=entity, first_seen=first,
                       last_seen=last, count=max(1, int(count)),
                       risk=float(risk if risk is not None else self.cfg["risk"]),
                       title=title, **kw)


def bowley_skew(values: list[float]) -> float:
    """Quartile skewness (-1..1): 0 for a symmetric distribution."""
    q1, q2, q3 = _quartiles(values)
    if q3 - q1 <= 1e-9:
        return 0.0
    return (q3 + q1 - 2 * q2) / (q3 - q1)


def madm(values: list[float]) -> float:
    """Median absolute deviation about the median."""
    m = median(values)
    return median(abs(v - m) for v in values)


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    s = sorted(values)
    n = len(s)

    def q(p: float) -> float:
        x = p * (n - 1)
        lo = math.floor(x)
        hi = min(n - 1, lo + 1)
        return s[lo] + (s[hi] - s[lo]) * (x - lo)

    return q(0.25), q(0.5), q(0.75)


REGISTRY: dict[str, type[Analytic]] = {}


def register(cls: type[Analytic]) -> type[Analytic]:
    """Class decorator: make an analytic available by its ``name``."""
    REGISTRY[cls.name] = cls
    return cls


FAILED_STATES = frozenset({"S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"})


def prune_list(items: list, cutoff: float, key: int = 0) -> list:
    """Drop leading entries whose ``item[key]`` is older than ``cutoff`` (the list is kept in time order)."""
    i = 0
    n = len(items)
    while i < n and items[i][key] < cutoff:
        i += 1
    return items[i:] if i else items
