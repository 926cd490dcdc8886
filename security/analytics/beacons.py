"""Beacons scored as RITA does: dispersion of the intervals and of the sizes, and the connection count.

Per internal source and destination (any port), over the horizon: sessions a few seconds
apart count as one beat; the intervals between beats are scored by their quartile skew
and their median absolute deviation against the median interval, and by how much of the
span the beats cover (missed beats lower it); the sizes sent by their skew and
dispersion. A pair the host already had in the baseline, or a destination many internal
hosts contact, is a service, not a beacon.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from security.analytics.base import Analytic, Finding, bowley_skew, madm, prune_list, register
from security.records import Connection

WEB_PORTS = {80, 443, 8080, 8443}


@register
class Beacons(Analytic):
    name = "beaconing"  # replaces the per-window rule of the same name
    technique = "T1071"
    technique_name = "Application Layer Protocol"
    records = (Connection,)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 74,  # high: a new periodic channel to a rare external host
        "internal_risk": 55,  # medium: the same towards an internal host never contacted in the baseline
        "horizon_s": 86400,  # beats judged over the last 24 h
        "min_beats": 10,  # beats (after merging a beat's sessions) before a pair is scored
        "beat_merge_s": 10.0,  # sessions closer than this are one beat (several sessions per beat)
        "min_interval_s": 10.0,  # shorter median intervals are bulk transfers, not beacons
        "min_score": 0.7,  # mean of the interval score and the size score (0..1)
        "max_prevalence": 3,  # a destination more internal hosts contact is a common service
        "max_points": 4000,  # sessions kept per pair
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.pairs: dict[str, list] = {}  # "src>dst" -> [[ts, bytes, dport], ...] (plus the last sport)
        self.last: dict[str, tuple[int, int]] = {}

    def observe(self, c: Connection) -> None:
        if not self.ctx.internal(c.src) or self.ctx.known(c.src, c.dst):
            return
        key = f"{c.src}>{c.dst}"
        if self.last.get(key) == (c.sport, c.dport):  # the next piece of one long connection
            return
        self.last[key] = (c.sport, c.dport)
        pts = self.pairs.get(key)
        if pts is None:
            pts = self.pairs[key] = []
        pts.append([c.ts, c.orig_bytes, c.dport])
        if len(pts) > self.cfg["max_points"]:
            del pts[: len(pts) - self.cfg["max_points"]]
        self.dirty.add(key)

    def score(self, pts: list) -> dict[str, float] | None:
        """RITA-style figures for one pair's sessions, or None when there are too few beats."""
        merge = self.cfg["beat_merge_s"]
        beats: list[list] = []
        for p in sorted(pts):
            if beats and p[0] - beats[-1][0] < merge:
                continue
            beats.append(p)
        if len(beats) < self.cfg["min_beats"]:
            return None
        gaps = [b[0] - a[0] for a, b in zip(beats, beats[1:], strict=False)]
        med = median(gaps)
        if med < self.cfg["min_interval_s"]:
            return None
        span = beats[-1][0] - beats[0][0]
        skew = bowley_skew(gaps)
        mad = madm(gaps) / med
        coverage = min(1.0, len(gaps) * med / span) if span > 0 else 0.0
        ts_score = ((1 - abs(skew)) + max(0.0, 1 - mad) + coverage) / 3
        sizes = [float(b[1]) for b in beats]
        smed = median(sizes) or 1.0
        size_skew = bowley_skew(sizes)
        size_mad = madm(sizes) / smed
        small = max(0.0, 1 - smed / 65535)
        ds_score = ((1 - abs(size_skew)) + max(0.0, 1 - size_mad) + small) / 3
        return {"beats": len(beats), "median_interval_s": round(med, 1), "interval_skew": round(skew, 3),
                "interval_mad_ratio": round(mad, 3), "beat_coverage": round(coverage, 3),
                "size_mad_ratio": round(size_mad, 3), "median_bytes_out": smed,
                "interval_score": round(ts_score, 3), "size_score": round(ds_score, 3),
                "beacon_score": round((ts_score + ds_score) / 2, 3)}

    def detect(self, now: float) -> list[Finding]:
        out = []
        cutoff = now - self.cfg["horizon_s"]
        for key in list(self.pairs):
            pts = self.pairs[key] = prune_list(self.pairs[key], cutoff)
            if not pts:
                del self.pairs[key]
                self.last.pop(key, None)
        for key in self.dirty:
            pts = self.pairs.get(key)
            if not pts:
                continue
            src, dst = key.split(">", 1)
            prevalence = self.ctx.prevalence(dst)
            if prevalence > self.cfg["max_prevalence"] or self.ctx.known(src, dst):
                continue
            s = self.score(pts)
            if s is None or s["beacon_score"] < self.cfg["min_score"]:
                continue
            ports = sorted({p[2] for p in pts})
            port = max(ports, key=lambda p: sum(1 for x in pts if x[2] == p))
            internal = self.ctx.internal(dst)
            self.ctx.c2.add(f"{src}>{dst}")
            out.append(self.finding(
                entity=src, key=key, first=pts[0][0], last=pts[-1][0], count=s["beats"],
                risk=self.cfg["internal_risk"] if internal else self.cfg["risk"],
                title=f"Beaconing from {src} to {dst} (port {port}): {s['beats']} beats every "
                      f"~{s['median_interval_s']:.0f}s, score {s['beacon_score']:.2f}; "
                      f"{prevalence} internal host(s) ever contacted {dst}, none in the baseline",
                observed={**s, "destination_prevalence": prevalence, "ports": len(ports)},
                baselines={"destination_prevalence": 0.0, "beacon_score": self.cfg["min_score"]},
                thresholds={"min_score": self.cfg["min_score"], "min_beats": self.cfg["min_beats"]},
                evidence=[f"{src} -> {dst}:{p[2]} at +{p[0] - pts[0][0]:.0f}s, {p[1]} bytes out"
                          for p in pts[: self.max_evidence]],
                source_ip=src, destination_ip=dst, destination_port=port, categories=["network"]))
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"pairs": self.pairs}

    def load(self, state: dict[str, Any]) -> None:
        self.pairs = {k: [list(p) for p in v] for k, v in state.get("pairs", {}).items()}
