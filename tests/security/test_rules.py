"""Rules and alert building on synthetic records: each rule fires on its attack and not on normal use."""

from __future__ import annotations

from core.settings import SecuritySettings
from security.features import FlowTable
from security.monitor import Monitor
from security.records import ACK, FIN, RST, SYN, AuthEvent, DnsQuery, HttpRequest, Packet
from security.rules import web_attack_kinds

T0 = 1_763_600_000.0


def _run(records, **cfg):
    m = Monitor(SecuritySettings(**cfg))
    m.feed_many(records)
    return m.finish()


def _fail(i, src, user, outcome="failure"):
    return AuthEvent(T0 + i, "srv", "sshd", outcome, user=user, src=src, message=f"Failed password for {user}")


def test_rules_port_scan_fires_with_technique():
    pkts = []
    for port in range(1, 60):
        pkts.append(Packet(T0 + port * 0.1, "203.0.113.5", "10.0.0.80", 6, 40000 + port, port, 60, SYN))
        pkts.append(Packet(T0 + port * 0.1 + 0.01, "10.0.0.80", "203.0.113.5", 6, port, 40000 + port, 60, RST | ACK))
    res = _run(pkts)
    [alert] = res.alerts
    assert (alert.rule_name, alert.threat_technique_id, alert.source_ip) == ("port_scan", "T1046", "203.0.113.5")
    assert alert.count == 59 and alert.severity.value == "high" and alert.evidence


def test_rules_brute_force_and_spraying_are_told_apart():
    brute = [_fail(i, "198.51.100.1", "root") for i in range(20)]
    spray = [_fail(i, "198.51.100.2", f"user{i}") for i in range(12)]
    normal = [_fail(1, "10.0.0.9", "ngoc"), AuthEvent(T0 + 5, "srv", "sshd", "success", user="ngoc", src="10.0.0.9")]
    res = _run(brute + spray + normal)
    got = {(a.rule_name, a.entity, a.threat_technique_id) for a in res.alerts}
    assert got == {("ssh_brute_force", "198.51.100.1", "T1110.001"),
                   ("password_spraying", "198.51.100.2", "T1110.003")}


def test_rules_distributed_brute_force_is_per_account():
    recs = [_fail(i, f"203.0.113.{i % 8}", "quantri") for i in range(16)]
    res = _run(recs)
    [alert] = res.alerts
    assert (alert.rule_name, alert.entity, alert.user_name) == ("distributed_brute_force", "user:quantri", "quantri")
    assert alert.count == 16 and alert.threat_technique_id == "T1110.001"


def test_rules_web_attack_kinds():
    assert web_attack_kinds("/a?id=1%27%20OR%20%271%27=%271") == ["sql_injection"]
    assert "xss" in web_attack_kinds("/s?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert web_attack_kinds("/static/../../etc/passwd") == ["path_traversal"]
    assert "command_injection" in web_attack_kinds("/ping?host=1.1.1.1;cat%20/etc/hosts")
    assert web_attack_kinds("/tin-tuc/le-hoi-banh-dan-gian?page=2") == []


def test_rules_dns_tunnel_and_beacon():
    label = "a8sd9f7g6h5j4k3l2z1x0c9v8b7n"
    recs = [DnsQuery(T0 + i, "10.0.0.7", "10.0.0.53", f"{'k7q2m9x4'[i % 8] * 3}{label}{i}.t.evil.net")
            for i in range(30)]
    recs += [DnsQuery(T0 + i * 7, "10.0.0.8", "10.0.0.53", "www.cantho.gov.vn") for i in range(30)]
    for i in range(12):
        t = T0 + i * 30
        recs += [Packet(t, "10.0.0.9", "185.1.1.1", 6, 50000 + i, 443, 60, SYN),
                 Packet(t + 0.01, "185.1.1.1", "10.0.0.9", 6, 443, 50000 + i, 60, SYN | ACK),
                 Packet(t + 0.02, "10.0.0.9", "185.1.1.1", 6, 50000 + i, 443, 60, FIN | ACK),
                 Packet(t + 0.03, "185.1.1.1", "10.0.0.9", 6, 443, 50000 + i, 60, FIN | ACK)]
    res = _run(recs)
    got = {(a.rule_name, a.entity) for a in res.alerts}
    assert got == {("dns_tunnel", "10.0.0.7"), ("beaconing", "10.0.0.9")}
    tunnel = next(a for a in res.alerts if a.rule_name == "dns_tunnel")
    assert tunnel.destination_domain == "evil.net" and tunnel.threat_technique_id == "T1071.004"


def test_rules_allowlist_and_overrides():
    brute = [_fail(i, "198.51.100.1", "root") for i in range(20)]
    assert _run(brute, allowlist=["198.51.100.0/24"]).suppressed == 1
    assert _run(brute, allowlist=["198.51.100.0/24"]).alerts == []
    assert _run(brute, rules={"ssh_brute_force": {"min_failures": 50}}).alerts == []


def test_rules_alert_ids_are_deterministic_and_merge_within_the_window():
    web = [HttpRequest(T0 + i, "192.0.2.4", "GET", "/x?q=1%20UNION%20SELECT%201", 500) for i in range(3)]
    a, b = _run(web).alerts, _run(web).alerts
    assert [x.id for x in a] == [x.id for x in b] and len(a) == 1 and a[0].count == 3


def test_rules_flow_table_is_bidirectional_with_states():
    ft = FlowTable(idle_timeout=10)
    out = ft.add(Packet(T0, "1.1.1.1", "2.2.2.2", 6, 1000, 80, 60, SYN))
    out += ft.add(Packet(T0 + 0.1, "2.2.2.2", "1.1.1.1", 6, 80, 1000, 60, SYN | ACK))
    out += ft.add(Packet(T0 + 1, "3.3.3.3", "2.2.2.2", 6, 1001, 22, 60, SYN))
    out += ft.add(Packet(T0 + 30, "4.4.4.4", "2.2.2.2", 17, 5, 53, 80))  # idle sweep
    states = {(c.src, c.dport): (c.state, c.orig_pkts, c.resp_pkts) for c in out + ft.flush()}
    assert states[("1.1.1.1", 80)] == ("SF", 1, 1)
    assert states[("3.3.3.3", 22)] == ("S0", 1, 0)
    assert states[("4.4.4.4", 53)][0] == "S0"
