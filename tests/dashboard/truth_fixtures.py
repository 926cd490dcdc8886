"""Fixture data for the "figures tell the truth" tests: the dashboard fixture directory plus posts
whose model probabilities and repeated texts test the notable lists, and alerts (a listening spike,
an external attacker, rule and anomaly explanations) that test the counts and explanations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.documents import Alert, Explanation, Post
from tests.dashboard.conftest import fill_data_dir

NEGATIVE = [  # (native id, P(negative), likes, text); the first text is posted three times
    ("neg-a", 0.97, 5, "Nước ngập tới yên xe, cả khu phố Hưng Lợi không ai ra khỏi nhà được."),
    ("neg-a2", 0.97, 1, "Nước ngập tới yên xe, cả khu phố Hưng Lợi không ai ra khỏi nhà được."),
    ("neg-a3", 0.97, 0, "nước ngập tới yên xe,  cả khu phố Hưng Lợi không ai ra khỏi nhà được."),
    ("neg-b", 0.91, 2, "Bệnh viện quá tải, người bệnh nằm ghép ba người một giường."),
    ("neg-c", 0.62, 900, "Đường Nguyễn Văn Cừ lại kẹt xe, ai đi làm nhớ tránh giờ cao điểm."),
    ("neg-d", 0.48, 0, "Giá điện tháng này tăng, nhiều hộ thấy hóa đơn cao hơn mọi khi."),
]
KEYWORDS = {"neg-a": ["ngập sâu", "Hưng Lợi"], "neg-a2": ["ngập sâu", "Hưng Lợi"], "neg-a3": ["ngập sâu", "Hưng Lợi"],
            "neg-b": ["quá tải"], "neg-c": ["kẹt xe", "ngập sâu"], "neg-d": ["giá điện"]}
SPIKE_WINDOW_H = (8, 1)  # the spike alert's window: from 8 hours ago to 1 hour ago
POSITIVE = [("pos-a", 0.97, "Chợ nổi Cái Răng đón khách trở lại, bà con buôn bán tấp nập vui vẻ."),
            ("pos-b", 0.93, "Công viên mới ở Bình Thủy có nhiều cây xanh, trẻ em rất thích.")]
TOXIC = [("tox-a", 0.99, "offensive", "Lũ chủ quán karaoke mất dạy, hát tới khuya không cho ai ngủ."),
         ("tox-b", 0.95, "offensive", "Mấy đứa đua xe ngu như bò, phá hết đường.")]
ATTACKER = "203.0.113.66"  # an external address with several high-risk alerts
LONE_ATTACKER = "198.51.100.7"  # an external address with one critical alert
NOISE = [f"10.99.0.{i}" for i in range(1, 13)]  # internal addresses with one low alert each
ANOMALOUS = "10.20.1.9"  # an internal host with one anomaly alert
# (feature, observed, its own baseline, tail probability, distance, contribution), as the monitor ranks them
ANOMALY_ROWS = [("dns_queries", 4200.0, 35.0, 0.0156, 410.0, 0.31), ("dns_entropy", 4.6, 2.9, 0.0156, 3.1, 0.23),
                ("bytes_out", 9.1e6, 2.0e5, 0.05, 40.0, 0.2)]


def truth_posts(now: datetime) -> list[Post]:
    posts = []
    for i, (nid, p_neg, likes, text) in enumerate(NEGATIVE):
        p_pos = round((1 - p_neg) / 3, 4)
        posts.append(Post.new(platform="facebook", source="fb-cantho-24h", native_id=nid, language="vi",
                              title=text[:40], text=text, published_at=now - timedelta(hours=2 + i),
                              topics=["environment_disaster"], sentiment="negative",
                              sentiment_score=round(p_pos - p_neg, 4), toxicity="clean", toxicity_score=0.02,
                              label_confidence={"sentiment": p_neg}, engagement={"likes": likes},
                              places=["Ninh Kiều"], watchlists=["ngap-do-thi"], keywords=KEYWORDS[nid]))
    for i in range(2):  # the baseline before the spike: one flood post with a term that then rose
        posts.append(Post.new(platform="news", source="baocantho", native_id=f"base-{i}", language="vi",
                              title=f"Triều cường tháng {i + 9}", text=f"Triều cường dâng cao lần {i + 1}.",
                              published_at=now - timedelta(days=3 + i), topics=["environment_disaster"],
                              sentiment="neutral", sentiment_score=0.0, watchlists=["ngap-do-thi"],
                              keywords=["triều cường", "ngập sâu"] if i == 0 else ["triều cường"]))
    for i, (nid, p_pos, text) in enumerate(POSITIVE):
        posts.append(Post.new(platform="news", source="baocantho", native_id=nid, language="vi", title=text[:40],
                              text=text, published_at=now - timedelta(hours=3 + i), topics=["tourism"],
                              sentiment="positive", sentiment_score=round(p_pos - (1 - p_pos) / 2, 4),
                              toxicity="clean", toxicity_score=0.01, label_confidence={"sentiment": p_pos}))
    for i, (nid, p_tox, label, text) in enumerate(TOXIC):
        posts.append(Post.new(platform="forum", source="dien-dan-cantho", native_id=nid, language="vi",
                              title=text[:40], text=text, published_at=now - timedelta(hours=4 + i),
                              topics=["security_order"], sentiment="negative", sentiment_score=-0.3,
                              toxicity=label, toxicity_score=p_tox, label_confidence={"sentiment": 0.4}))
    return posts


def truth_alerts(now: datetime) -> list[Alert]:
    """A critical listening spike, an external attacker with three alerts, a rule alert with its
    evidence and an anomaly alert whose features stand at different distances from the baseline."""
    def alert(rule: str, entity: str, hours: float, risk: float, **fields) -> Alert:
        at = now - timedelta(hours=hours)
        return Alert(id=Alert.make_id(rule, entity, at.isoformat()), timestamp=at, rule_name=rule, entity=entity,
                     risk_score=risk, severity=fields.pop("severity", "high"), **fields)

    return [
        alert("listening_spike", "watchlist:ngap-do-thi", SPIKE_WINDOW_H[1], 92, severity="critical",
              module="listening", title="Đột biến đề cập: Ngập đô thị", related_ids=[],
              first_seen=now - timedelta(hours=SPIKE_WINDOW_H[0]), last_seen=now - timedelta(hours=SPIKE_WINDOW_H[1])),
        *[alert("web_attack", ATTACKER, 5 + i, 85, source_ip=ATTACKER, destination_ip="10.20.1.5",
                first_seen=now - timedelta(hours=7 + i), last_seen=now - timedelta(hours=5 + i),
                title=f"Web attack from {ATTACKER}", threat_technique_id="T1190",
                threat_technique_name="Exploit Public-Facing Application",
                explanation=[Explanation(kind="rule", feature="sql_injection_requests", observed=14),
                             Explanation(kind="rule", feature="xss_requests", observed=3),
                             Explanation(kind="rule", feature="count", observed=17, threshold=10, direction="min")],
                evidence=["2026-01-01T00:00:00Z GET /login.php?id=1%27%20OR%20%271%27=%271 HTTP/1.1"])
          for i in range(3)],
        alert("anomaly_ecod", ANOMALOUS, 6, 60, severity="medium", source_ip=ANOMALOUS,
              title=f"Unusual activity from {ANOMALOUS}",
              explanation=[Explanation(kind="anomaly", feature=f, observed=o, baseline=b, tail_p=p, distance=d,
                                       baseline_of="entity", contribution=c)
                           for f, o, b, p, d, c in ANOMALY_ROWS]),
        alert("ssh_bruteforce", LONE_ATTACKER, 8, 97, severity="critical", source_ip=LONE_ATTACKER,
              title=f"SSH brute force from {LONE_ATTACKER}"),
        *[alert("port_scan", ip, 9 + i, 20, severity="low", source_ip=ip, title=f"Port scan from {ip}")
          for i, ip in enumerate(NOISE)],
    ]


DEMO_SOURCE = "demo-tin-tuc"  # a source that ran without being in the sources file (as the demo's)
WATCHLISTS = "watchlists:\n  - name: ngap-do-thi\n    title: Ngập đô thị\n    query: ngập\n"


def use_truth_dir(monkeypatch, data_dir: Path) -> None:
    """:func:`use_data_dir` plus the watchlists file naming the fixture's watchlist."""
    from core.settings import get_settings
    from tests.dashboard.conftest import use_data_dir

    use_data_dir(monkeypatch, data_dir)
    monkeypatch.setenv("IOCWATCH_CRAWL__WATCHLISTS_FILE", str(data_dir.parent / "watchlists.yaml"))
    get_settings.cache_clear()


def fill_truth_dir(data_dir: Path) -> dict:
    """The dashboard fixture directory plus the truth posts and alerts; returns the expected figures."""
    from core.settings import load_settings
    from index import open_store

    now = datetime.now(UTC)
    expected = fill_data_dir(data_dir, now)
    (data_dir.parent / "watchlists.yaml").write_text(WATCHLISTS, encoding="utf-8")
    from core.status import record_run

    record_run(data_dir, "sources", DEMO_SOURCE, items=40, errors=0, at=now - timedelta(minutes=5))
    store = open_store(load_settings(data_dir=data_dir))
    try:
        assert store.upsert_many("posts", truth_posts(now)).ok
        assert store.upsert_many("alerts", truth_alerts(now)).ok
    finally:
        store.close()
    return expected
