"""Network analytics on crafted connections: beacons, long connections, slow scans, exfiltration, lateral movement."""

from __future__ import annotations

import random

from security.analytics.beacons import Beacons
from tests.security._analytics_helpers import DAY, T0, conn, engine, run


def _rules(findings):
    return {(f.rule, f.entity, f.technique) for f in findings}


def test_analytics_beacon_with_half_jitter_missed_beats_and_bursts():
    rng = random.Random(1)
    recs = []
    for i in range(60):  # 5-minute beacon, +-50 % jitter, 20 % missed, 2 sessions per beat, odd port
        if rng.random() < 0.2:
            continue
        t = T0 + i * 300 + rng.uniform(-0.5, 0.5) * 300
        recs += [conn(t, "10.1.1.5", "185.7.7.7", 31337, out_b=rng.randint(300, 420), rng=rng),
                 conn(t + 1.5, "10.1.1.5", "185.7.7.7", 31337, out_b=rng.randint(300, 420), rng=rng)]
    found = run(engine(), recs)
    assert ("beaconing", "10.1.1.5", "T1071") in _rules(found)
    f = next(f for f in found if f.rule == "beaconing")
    assert f.observed["beacon_score"] >= 0.7 and f.observed["beats"] < 60 and f.destination_port == 31337
    assert f.baselines["destination_prevalence"] == 0.0 and f.evidence


def test_analytics_beacon_ignores_browsing_and_services_known_from_the_baseline():
    rng = random.Random(2)
    base = [conn(T0 - 86400 + i * 300, "10.1.1.6", "10.1.0.50", 8086, rng=rng) for i in range(200)]
    recs = [conn(T0 + i * 300, "10.1.1.6", "10.1.0.50", 8086, rng=rng) for i in range(60)]  # monitoring agent
    t = T0
    for _ in range(80):  # bursty browsing to one rare site: exponential gaps, varied sizes
        t += rng.expovariate(1 / 120)
        recs.append(conn(t, "10.1.1.7", "93.1.1.1", 443, out_b=rng.randint(400, 30000), rng=rng))
    assert not [f for f in run(engine(base), recs) if f.rule == "beaconing"]


def test_analytics_beacon_score_separates_regular_from_random():
    b = Beacons(Beacons.DEFAULTS, None)
    rng = random.Random(3)
    regular = [[T0 + i * 60 + rng.uniform(-3, 3), 400, 443] for i in range(40)]
    t, random_pts = T0, []
    for _ in range(40):
        t += rng.expovariate(1 / 60)
        random_pts.append([t, rng.randint(200, 20000), 443])
    assert b.score(regular)["beacon_score"] > 0.85 > b.score(random_pts)["beacon_score"]
    assert b.score(regular[:5]) is None  # too few beats


def test_analytics_long_connection_to_a_rare_host_but_not_to_a_common_one():
    recs = []
    for piece in range(6):  # 3 h reported as 30-minute pieces of one 5-tuple
        recs.append(conn(T0 + piece * 1800, "10.1.1.8", "185.9.9.9", 22, duration=1800, sport=40001))
    for h in range(5):  # five hosts on the same conferencing server for 3 h: a service
        for piece in range(6):
            recs.append(conn(T0 + piece * 1800, f"10.1.2.{h}", "52.1.1.1", 443, duration=1800, sport=41000 + h))
    found = [f for f in run(engine(), recs) if f.rule == "long_connection"]
    assert [(f.entity, f.destination_ip) for f in found] == [("10.1.1.8", "185.9.9.9")]
    assert found[0].observed["duration_h"] == 3.0


def test_analytics_slow_vertical_scan_over_hours_and_baseline_raises_the_bar():
    recs = [conn(T0 + i * 30, "45.1.2.3", "10.1.0.80", p, state="REJ", out_b=60, in_b=0)
            for i, p in enumerate(range(1000, 1040))]  # one probe every 30 s for 20 minutes
    found = run(engine(), recs)
    assert ("slow_scan", "45.1.2.3", "T1046") in _rules(found)
    # a host that probes 20 ports every day (monitoring) is judged against itself
    base = [conn(T0 - 86400 + i, "10.1.0.9", "10.1.0.80", p, state="REJ") for i, p in enumerate(range(2000, 2020))]
    recs = [conn(T0 + i * 60, "10.1.0.9", "10.1.0.80", p, state="REJ") for i, p in enumerate(range(2000, 2030))]
    assert not [f for f in run(engine(base), recs) if f.rule == "slow_scan"]


def test_analytics_slow_horizontal_sweep():
    recs = [conn(T0 + i * 60, "10.1.1.9", f"10.1.3.{i}", 445, state="S0", out_b=60, in_b=0) for i in range(1, 31)]
    f = next(f for f in run(engine(), recs) if f.rule == "slow_scan")
    assert f.entity == "10.1.1.9" and f.destination_port == 445 and f.observed["failed_hosts_on_one_port"] == 30


def test_analytics_exfiltration_against_own_baseline_and_night():
    base = [conn(T0 - 86400 + i * 600, f"10.1.1.{20 + i % 5}", "142.250.1.1", 443, out_b=2_000_000)
            for i in range(100)]
    night = T0 + 3600  # 00:00 local
    recs = [conn(night + i * 600, "10.1.1.20", "91.2.3.4", 8443, out_b=20_000_000) for i in range(4)]  # 80 MB
    found = [f for f in run(engine(base), recs) if f.rule == "exfiltration"]
    assert [(f.entity, f.destination_ip, f.technique) for f in found] == [("10.1.1.20", "91.2.3.4", "T1048")]
    assert found[0].observed["night"] == 1.0 and found[0].baselines["bytes_out"] is not None
    day = [conn(DAY + 86400 + i * 600, "10.1.1.21", "91.2.3.5", 8443, out_b=20_000_000) for i in range(4)]
    assert not [f for f in run(engine(base), day) if f.rule == "exfiltration"]  # 80 MB by day: under the floor


def test_analytics_exfiltration_over_a_beacon_is_t1041():
    eng = engine()
    recs = [conn(DAY + i * 120, "10.1.1.30", "185.3.3.3", 443, out_b=400) for i in range(30)]
    recs += [conn(DAY + 3700, "10.1.1.30", "185.3.3.3", 443, out_b=300_000_000)]
    found = run(eng, recs)
    assert {("beaconing", "T1071"), ("exfiltration", "T1041")} <= {(f.rule, f.technique) for f in found}


def test_analytics_lateral_movement_new_admin_edges_only():
    base = [conn(T0 - 86400 + i * 60, "10.1.1.40", "10.1.0.45", 445) for i in range(10)]  # the file share
    base += [conn(T0 - 86400 + i * 60, "10.1.2.5", f"10.1.0.{i}", 22) for i in range(1, 8)]  # an admin
    recs = [conn(T0 + i * 600, "10.1.1.40", f"10.1.1.{50 + i}", 3389) for i in range(3)]
    recs += [conn(T0 + i * 600, "10.1.2.5", f"10.1.0.{i}", 22) for i in range(1, 9)]  # one new server
    recs += [conn(T0 + 5, "10.1.1.40", "10.1.0.45", 445)]
    found = [f for f in run(engine(base), recs) if f.rule == "lateral_movement"]
    assert [(f.entity, f.technique) for f in found] == [("10.1.1.40", "T1021.001")]
    assert found[0].observed["new_admin_edges"] == 3 and found[0].baselines["admin_hosts"] == 1.0


def test_analytics_alerts_through_the_monitor_explain_against_the_baseline():
    from core.settings import SecuritySettings
    from security.monitor import Monitor

    m = Monitor(SecuritySettings())
    for r in [conn(T0 + i * 300, "10.1.1.5", "185.7.7.7", 8443, out_b=400) for i in range(15)]:
        m.feed(r)
    alert = next(a for a in m.finish().alerts if a.rule_name == "beaconing")
    assert alert.threat_technique_id == "T1071" and alert.severity.value == "high"
    by_name = {e.feature: e for e in alert.explanation}
    assert by_name["destination_prevalence"].baseline == 0.0 and by_name["beacon_score"].observed >= 0.7
    assert by_name["beacon_score"].threshold == 0.7 and alert.evidence
