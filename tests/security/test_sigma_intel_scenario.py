"""Scenario: a crafted auth log and access log through the monitor flow; Sigma rules and an intel feed both fire."""

from __future__ import annotations

from pathlib import Path

from core.documents import Alert
from iocwatch.flows.monitor import intel_dir, run_monitor
from security.intel.store import load_feed

DATA = Path(__file__).parents[1] / "data"


def test_sigma_and_intel_scenario_alerts_carry_rule_id_tags_and_feed(settings, store, tmp_path):
    settings.security.sigma_rules_dirs = [str(DATA / "sigma" / "good")]  # an operator's folder of rules
    load_feed(intel_dir(settings), DATA / "intel" / "misp_export.csv", "cert-city")  # lists 198.51.100.66
    auth = tmp_path / "auth.log"
    lines = [f"2026-11-20T10:00:{i * 4:02d}+00:00 srv-ssh sshd[{900 + i}]: Failed password for admin from "
             f"198.51.100.66 port {41000 + i} ssh2" for i in range(12)]
    lines.append("2026-11-20T10:01:00+00:00 srv-ssh sshd[990]: Accepted password for admin from 198.51.100.66 "
                 "port 41100 ssh2")
    lines.append("2026-11-20T10:02:00+00:00 srv-ssh sudo:    admin : TTY=pts/1 ; PWD=/home/admin ; USER=root ; "
                 "COMMAND=/bin/bash")
    auth.write_text("\n".join(lines) + "\n")
    access = tmp_path / "access.log"
    access.write_text('192.0.2.45 - - [20/Nov/2026:10:03:00 +0000] "GET /cgi-bin/status.cgi HTTP/1.1" 200 512 '
                      '"-" "Mozilla/5.0"\n')
    report = run_monitor(settings, store, logs=[auth, access])
    alerts = [Alert.from_doc(store.get("alerts", i)) for i in report["alert_ids"]]
    by_rule = {a.rule_name: a for a in alerts}

    brute = by_rule["sigma:ssh_brute_force_source"]  # bundled correlation rule
    assert brute.rule_ruleset == "sigma" and brute.rule_id == "39152b2a-d401-40b2-a2f0-ba4f7d3d19a1"
    assert brute.rule_level == "high" and "attack.t1110.001" in brute.tags and brute.entity == "198.51.100.66"
    operator = by_rule["sigma:accepted_ssh_login_with_a_password_operator_rule_keywords"]  # the operator's rule
    assert operator.rule_id == "7f9b7a1e-0c55-4e2a-9a3e-5d5f3b0c0002" and operator.threat_technique_id == "T1078"
    assert by_rule["sigma:modifier_coverage_on_web_requests"].entity == "192.0.2.45"
    sudo = by_rule["sigma:sudo_to_a_root_shell_or_a_sensitive_file"]
    assert sudo.user_name == "admin" and sudo.host_name == "srv-ssh" and "attack.t1548.003" in sudo.tags

    intel = by_rule["threat_intel"]
    assert intel.threat_feed_name == "cert-city" and intel.threat_indicator_name == "198.51.100.66"
    assert intel.count == 13 and "cert-city" in intel.title and intel.rule_ruleset == "intel"
    assert by_rule["ssh_brute_force"].entity == "198.51.100.66"  # the built-in rule still fires
