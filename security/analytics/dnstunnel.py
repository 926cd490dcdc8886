"""DNS tunnelling beyond long labels: encoded sub-domains, unusual record types, many unique names.

Per internal source and registered domain, over the horizon: how many distinct
sub-domains it asked for, how many look encoded (hex, base32, base64: long labels of a
restricted alphabet with high entropy), and how many queries asked for TXT, NULL or
CNAME records. A domain that several internal hosts query (an antivirus reputation
service, a CDN) is a service, learnt or seen now.
"""

from __future__ import annotations

import re
from typing import Any

from security.analytics.base import Analytic, Finding, prune_list, register
from security.features import entropy, registered_domain
from security.records import DnsQuery

_HEX = re.compile(r"^[0-9a-f]+$")
_B32 = re.compile(r"^[a-z2-7]+$")
_B64 = re.compile(r"^[a-z0-9_-]+$")


def encoded(label: str, min_len: int = 12) -> str | None:
    """The encoding a sub-domain label looks like (``hex``, ``base32``, ``base64``), or None."""
    if len(label) < min_len:
        return None
    digits = sum(ch.isdigit() for ch in label)
    if _HEX.match(label) and digits >= 2:
        return "hex"
    ent = entropy(label)
    if _B32.match(label) and digits >= 1 and ent >= 3.0:
        return "base32"
    if _B64.match(label) and digits >= 1 and ent >= 3.2:
        return "base64"
    return None


@register
class DnsTunnel(Analytic):
    name = "dns_tunnel_slow"
    technique = "T1071.004"
    technique_name = "Application Layer Protocol: DNS"
    records = (DnsQuery,)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 78,  # high
        "horizon_s": 6 * 3600,  # queries accumulated over 6 h
        "min_unique": 30,  # distinct sub-domains under one registered domain ...
        "min_encoded_share": 0.6,  # ... most of them encoded ...
        "min_rare_qtype": 30,  # ... or this many TXT/NULL/CNAME queries with many distinct names
        "rare_qtypes": ["TXT", "NULL", "CNAME", "ANY", "PRIVATE"],
        "min_label_len": 12,  # shorter labels are not judged as encoded
        "max_prevalence": 3,  # domains more internal hosts query are services
        "max_queries": 5000,  # queries remembered per source and domain
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.rare = set(self.cfg["rare_qtypes"])
        self.q: dict[str, list] = {}  # "src|domain" -> [[ts, sub, encoding or "", rare qtype 0/1], ...]
        self.domains: dict[str, list[str]] = {}  # domain -> internal sources (baseline and since)

    def _domain_seen(self, domain: str, src: str) -> None:
        hosts = self.domains.setdefault(domain, [])
        if src not in hosts and len(hosts) <= self.cfg["max_prevalence"]:
            hosts.append(src)

    def learn(self, q: DnsQuery) -> None:
        self._domain_seen(registered_domain(q.query.lower()), q.src)

    def observe(self, q: DnsQuery) -> None:
        name = q.query.lower().rstrip(".")
        domain = registered_domain(name)
        self._domain_seen(domain, q.src)
        if len(self.domains[domain]) > self.cfg["max_prevalence"]:
            return
        sub = name[: -len(domain)].rstrip(".")
        if not sub:
            return
        longest = max(sub.split("."), key=len)
        enc = encoded(longest, self.cfg["min_label_len"]) or ""
        key = f"{q.src}|{domain}"
        lst = self.q.setdefault(key, [])
        lst.append([q.ts, sub, enc, 1 if (q.qtype or "").upper() in self.rare else 0])
        if len(lst) > self.cfg["max_queries"]:
            del lst[0]
        self.dirty.add(key)

    def detect(self, now: float) -> list[Finding]:
        cutoff = now - self.cfg["horizon_s"]
        for key in list(self.q):
            self.q[key] = prune_list(self.q[key], cutoff)
            if not self.q[key]:
                del self.q[key]
        out = []
        c = self.cfg
        for key in self.dirty:
            lst = self.q.get(key)
            if not lst:
                continue
            src, domain = key.split("|", 1)
            hosts = len(self.domains.get(domain, ()))
            if hosts > c["max_prevalence"]:
                continue
            subs = {x[1]: x[2] for x in lst}
            unique = len(subs)
            enc = sum(1 for e in subs.values() if e)
            rare = sum(x[3] for x in lst)
            share = enc / max(1, unique)
            by_enc = (unique >= c["min_unique"] and share >= c["min_encoded_share"])
            by_type = rare >= c["min_rare_qtype"] and unique >= c["min_unique"] // 2
            if not (by_enc or by_type):
                continue
            kinds = sorted({e for e in subs.values() if e})
            out.append(self.finding(
                entity=src, key=key, first=lst[0][0], last=lst[-1][0], count=len(lst),
                title=f"DNS tunnelling from {src} through {domain}: {unique} distinct sub-domains "
                      f"({share:.0%} encoded: {', '.join(kinds) or 'none'}), {rare} TXT/NULL/CNAME queries, "
                      f"{len(lst)} queries; {hosts} internal host(s) query {domain}",
                observed={"dns_queries": len(lst), "unique_subdomains": unique, "encoded_share": round(share, 3),
                          "rare_qtype_queries": rare, "domain_prevalence": hosts},
                baselines={"unique_subdomains": None, "domain_prevalence": None},
                thresholds={"min_unique": c["min_unique"], "min_encoded_share": c["min_encoded_share"]},
                evidence=[f"{src} -> {x[1]}.{domain}" for x in lst[: self.max_evidence]],
                source_ip=src, destination_domain=domain, categories=["network"]))
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"q": self.q, "domains": self.domains}

    def load(self, state: dict[str, Any]) -> None:
        self.q = {k: [list(x) for x in v] for k, v in state.get("q", {}).items()}
        self.domains = {k: list(v) for k, v in state.get("domains", {}).items()}
