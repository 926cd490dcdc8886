"""Hostile input: the analytics never raise on generated records, and their state survives a save and load."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.settings import SecuritySettings
from security.analytics.engine import AnalyticsEngine
from security.records import AuthEvent, Connection, DnsQuery, HttpRequest

addr = st.one_of(st.ip_addresses().map(str), st.sampled_from(["10.0.0.1", "10.0.0.2", "", "not-an-ip", "::1"]),
                 st.text(max_size=12))
ts = st.floats(min_value=1.6e9, max_value=1.9e9, allow_nan=False)
port = st.integers(min_value=0, max_value=65535)
text = st.text(max_size=80)

connections = st.builds(Connection, ts, addr, addr, port, port, st.sampled_from(["tcp", "udp", "icmp", "?"]),
                        st.floats(min_value=0, max_value=1e5), st.integers(0, 10**10), st.integers(0, 10**10),
                        st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(["SF", "S0", "REJ", None, ""]))
queries = st.builds(DnsQuery, ts, addr, addr, st.one_of(text, st.from_regex(r"[a-z0-9-]{1,63}(\.[a-z0-9-]{1,20}){0,4}",
                                                                            fullmatch=True)),
                    st.sampled_from(["A", "TXT", "NULL", None, "x"]))
requests = st.builds(HttpRequest, ts, addr, st.sampled_from(["GET", "POST", "-"]), text,
                     st.one_of(st.none(), st.integers(100, 599)), st.integers(0, 10**6), text, text)
logins = st.builds(AuthEvent, ts, text, st.sampled_from(["sshd", "portal", ""]),
                   st.sampled_from(["failure", "success", "invalid_user", "other"]), st.one_of(st.none(), text),
                   st.one_of(st.none(), addr))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(connections, queries, requests, logins), max_size=60),
       st.lists(st.one_of(connections, queries, requests, logins), max_size=30))
def test_analytics_never_raise_and_state_round_trips(tmp_path_factory, records, baseline):
    eng = AnalyticsEngine(SecuritySettings())
    eng.learn_many(baseline)
    for r in records:
        eng.observe(r)
    findings = eng.detect()
    assert all(f.technique and f.entity is not None for f in findings)
    path = tmp_path_factory.mktemp("state") / "analytics.json"
    eng.save(path)
    again = AnalyticsEngine.open(path, SecuritySettings())
    assert again.problems == []
    assert _json(again.state()) == _json(eng.state())  # what was saved is what comes back


def _json(obj):
    return json.loads(json.dumps(obj, default=str))
