"""Synthetic Vietnamese posts and alerts for benchmarks (deterministic for a seed)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from core.ids import make_id

SUBJECTS = ["Người dân phường An Hòa", "Tài xế xe buýt", "Tiểu thương chợ Tân An", "Phụ huynh học sinh",
            "Du khách ở bến Ninh Kiều", "Cư dân khu tái định cư", "Công nhân khu công nghiệp Trà Nóc",
            "Bà con huyện Phong Điền", "Sinh viên Đại học Cần Thơ", "Chủ nhà hàng ven sông"]
EVENTS = ["phản ánh đường ngập sau cơn mưa chiều", "khen thủ tục một cửa giải quyết nhanh",
          "lo lắng vì sạt lở bờ kè", "bức xúc vì kẹt xe giờ cao điểm", "vui mừng khi cầu mới thông xe",
          "cảnh báo tin nhắn lừa đảo giả danh ngân hàng", "đề nghị thêm đèn chiếu sáng",
          "hài lòng với dịch vụ khám bệnh từ xa", "than phiền rác thải ùn ứ", "mong sớm có công viên cây xanh"]
PLACES = ["Cần Thơ", "Ninh Kiều", "Cái Răng", "Bình Thủy", "Ô Môn", "Thốt Nốt", "Phong Điền", "Sóc Trăng",
          "Hậu Giang", "Vị Thanh", "Đà Nẵng", "Huế"]
TAILS = ["Chính quyền địa phương cho biết sẽ kiểm tra và xử lý trong tuần này.",
         "Nhiều người để lại bình luận chia sẻ trải nghiệm tương tự.",
         "Sở ngành liên quan đã tiếp nhận phản ánh qua tổng đài 1022.",
         "Tình trạng này kéo dài nhiều ngày khiến người dân mệt mỏi.",
         "Đây là tín hiệu tích cực cho kế hoạch phát triển đô thị thông minh."]
SOURCES = ["baocantho", "cantho_portal", "vnexpress", "tuoitre", "thanhnien", "dantri", "vietnamnet",
           "fb_cantho_news", "yt_cantho_tv", "tg_cantho", "forum_otofun"]
PLATFORM_OF = {"fb_cantho_news": "facebook", "yt_cantho_tv": "youtube", "tg_cantho": "telegram",
               "forum_otofun": "forum"}
TOPICS = ["security_order", "traffic", "environment", "health", "education", "tourism", "public_services",
          "economy", "urban_planning", "information_security", "culture_society", "other"]
SENTIMENTS = ["negative", "neutral", "positive"]
QUERY_WORDS = ["ngập", "kẹt xe", "cần thơ", "lừa đảo", "sạt lở", "cầu", "rác thải", "bệnh viện",
               "ninh kieu", "cong vien", "den chieu sang", "thu tuc"]

END = datetime(2026, 11, 20, tzinfo=UTC)


def posts(n: int, seed: int = 7, days: int = 90) -> Iterator[dict[str, Any]]:
    """``n`` post documents spread over the ``days`` before 2026-11-20."""
    rng = random.Random(seed)
    span = days * 86400
    for i in range(n):
        source = rng.choice(SOURCES)
        place = rng.choice(PLACES)
        text = f"{rng.choice(SUBJECTS)} ở {place} {rng.choice(EVENTS)}. {rng.choice(TAILS)}"
        published = END - timedelta(seconds=rng.randrange(span))
        yield {
            "id": make_id("bench", str(seed), str(i)),
            "url": f"https://{source}.example.vn/bai-viet-{i}.html",
            "source": source,
            "platform": PLATFORM_OF.get(source, "news"),
            "title": f"{place}: {rng.choice(EVENTS)}",
            "text": text,
            "published_at": published.isoformat(),
            "collected_at": (published + timedelta(minutes=rng.randrange(5, 90))).isoformat(),
            "language": "vi",
            "topics": rng.sample(TOPICS, rng.choice((1, 1, 2))),
            "sentiment": rng.choice(SENTIMENTS),
            "sentiment_score": round(rng.random(), 3),
            "toxicity": "clean",
            "places": [place],
            "keywords": rng.sample(QUERY_WORDS, 2),
            "engagement": {"likes": rng.randrange(500), "comments": rng.randrange(80), "shares": rng.randrange(40)},
        }


def alerts(n: int, seed: int = 11, days: int = 30) -> Iterator[dict[str, Any]]:
    """``n`` security alert documents (ECS names) over the ``days`` before 2026-11-20."""
    rng = random.Random(seed)
    rules = [("port_scan", "T1046"), ("ssh_bruteforce", "T1110"), ("web_sqli", "T1190"),
             ("dns_tunnel", "T1071.004"), ("beaconing", "T1071"), ("anomaly", None)]
    for i in range(n):
        rule, technique = rng.choice(rules)
        risk = round(rng.uniform(10, 99), 1)
        ts = END - timedelta(seconds=rng.randrange(days * 86400))
        severity = "critical" if risk >= 90 else "high" if risk >= 70 else "medium" if risk >= 40 else "low"
        yield {
            "id": make_id("bench-alert", str(seed), str(i)),
            "@timestamp": ts.isoformat(),
            "event.kind": "alert",
            "event.category": ["network"],
            "source.ip": f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(256)}",
            "destination.ip": f"172.16.{rng.randrange(8)}.{rng.randrange(256)}",
            "destination.port": rng.choice([22, 53, 80, 443, 3389, 8080]),
            "rule.name": rule,
            "threat.technique.id": technique,
            "title": f"{rule} từ máy nội bộ",
            "risk_score": risk,
            "severity": severity,
            "status": rng.choice(["open", "open", "acknowledged", "in_progress", "closed"]),
            "count": rng.randrange(1, 50),
        }
