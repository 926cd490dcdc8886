"""The attack-family generator: seeded, at least 14 kinds with varied parameters, ground truth inside the period."""

from __future__ import annotations

from collections import Counter

import pytest

from security.families import KINDS, MONITORING, generate
from security.records import Connection, DnsQuery, HttpRequest


@pytest.fixture(scope="module")
def scenario():
    return generate(3, hours=24, learn_hours=6)


def test_families_has_fourteen_kinds_with_ground_truth(scenario):
    assert len(KINDS) >= 14
    kinds = Counter(i.kind for i in scenario.injected)
    assert set(kinds) == set(KINDS) and all(n == 2 for n in kinds.values())
    for inj in scenario.injected:
        assert scenario.start + 3600 <= inj.start < inj.end <= scenario.end + 1, inj.kind
        assert inj.technique in inj.accepted and inj.sources and inj.victim
        assert inj.attacker in inj.sources or inj.attacker.startswith("user:")


def test_families_records_are_sorted_and_in_their_period(scenario):
    ts = [r.ts for r in scenario.records]
    assert ts == sorted(ts) and scenario.start <= ts[0] and ts[-1] < scenario.end
    assert all(r.ts < scenario.learn_end for r in scenario.learn_records)
    kinds = Counter(type(r) for r in scenario.records)
    assert kinds[Connection] > 10_000 and kinds[DnsQuery] > 5_000 and kinds[HttpRequest] > 5_000


def test_families_are_seeded_and_vary_between_seeds(scenario):
    again = generate(3, hours=24, learn_hours=6)
    assert [i.as_dict() for i in again.injected] == [i.as_dict() for i in scenario.injected]
    other = generate(4, hours=24, learn_hours=6)
    assert [i.variant for i in other.injected] != [i.variant for i in scenario.injected]


def test_families_benign_mix_has_periodic_services(scenario):
    agent = sorted(r.ts for r in scenario.learn_records
                   if isinstance(r, Connection) and r.dst == MONITORING and r.src == "10.20.1.10")
    gaps = [b - a for a, b in zip(agent, agent[1:], strict=False)]
    assert len(gaps) > 50 and all(299 < g < 301 for g in gaps)


def test_families_web_payloads_are_encoded_somewhere():
    encodings = {i.variant["encoding"] for s in (1, 2, 3, 4, 5, 6)
                 for i in generate(s, hours=24, learn_hours=1, kinds=["web_exploit"], per_kind=3).injected}
    assert len(encodings) >= 4


def test_families_files_read_back_by_the_parsers(tmp_path):
    from security import logs
    from security.families import write_files
    from security.records import AuthEvent, ParseStats

    sc = generate(8, hours=3, learn_hours=1, kinds=["dns_tunnel", "ssh_brute_force", "web_exploit"], per_kind=1)
    counts = write_files(sc.records, tmp_path)
    back = []
    for name in counts:
        stats = ParseStats(name)
        back += list(logs.read(tmp_path / name, None, stats))
        assert not stats.errors and not stats.bad, stats.as_dict()
    kinds = Counter(type(r) for r in back)
    want = Counter(type(r) for r in sc.records)
    assert kinds[Connection] == want[Connection] and kinds[DnsQuery] == want[DnsQuery]
    assert kinds[HttpRequest] == want[HttpRequest]
    ssh = [r for r in back if isinstance(r, AuthEvent)]
    assert ssh and all(r.src and r.user for r in ssh)
    q = {(r.ts, r.query, r.qtype) for r in back if isinstance(r, DnsQuery)}
    assert {(round(r.ts, 6), r.query.lower(), r.qtype) for r in sc.records if isinstance(r, DnsQuery)} == \
        {(round(t, 6), n, k) for t, n, k in q}
