"""Writes posts.jsonl and alerts.jsonl for the dashboard tests from the fragments below.

Times are stored as ``age_h`` (hours before the test runs) so the windows of the
dashboard (24 h, 7 days...) always hold the same documents. Run from the repository
root: ``python tests/data/dashboard/generate.py``.
"""

import json
from pathlib import Path

HERE = Path(__file__).parent
PLACES = ["Ninh Kiều", "Cái Răng", "Bình Thủy", "Thốt Nốt", "Ô Môn"]
SOURCES = [("tuoitre-cantho", "news"), ("baocantho", "news"), ("fb-cantho-24h", "facebook"),
           ("yt-thoisu-mekong", "youtube"), ("dien-dan-cantho", "forum")]
# topic, sentiment, title, body, watchlist
TEMPLATES = [
    ("environment_disaster", "negative", "Mưa lớn kéo dài, nhiều tuyến đường ở {p} ngập sâu",
     "Chiều qua mưa như trút nước, nước dâng quá đầu gối khiến xe máy chết máy hàng loạt ở {p}. "
     "Người dân mong thành phố sớm nạo vét cống thoát nước.", "ngap-do-thi"),
    ("environment_disaster", "negative", "Triều cường dâng cao, khu dân cư {p} lại chìm trong nước",
     "Đỉnh triều cường sáng nay vượt mức báo động, nhiều hộ ở {p} phải kê đồ đạc lên cao.",
     "ngap-do-thi"),
    ("traffic", "negative", "Ùn tắc kéo dài trên đường dẫn cầu Cần Thơ giờ cao điểm",
     "Hàng trăm xe nhích từng chút một, tài xế phàn nàn vì chậm giờ giao hàng về {p}.", "cau-can-tho"),
    ("traffic", "positive", "Thành phố lắp thêm đèn tín hiệu tại nút giao đông đúc ở {p}",
     "Sau một tuần vận hành, tình trạng kẹt xe ở {p} giảm rõ, người đi đường đánh giá cao.", None),
    ("environment_disaster", "negative", "Rác thải tồn đọng ven kênh ở {p} bốc mùi hôi thối",
     "Bà con sống ven kênh ở {p} cho biết rác đã nằm đó cả tuần mà chưa được thu gom.", None),
    ("environment_disaster", "positive", "Thanh niên {p} ra quân dọn sạch kênh rạch cuối tuần",
     "Hơn hai trăm đoàn viên đã vớt rác, phát quang bờ kênh, trả lại cảnh quan sạch đẹp cho {p}.", None),
    ("health", "neutral", "Bệnh viện quận {p} công bố lịch khám bệnh ngày thứ Bảy",
     "Từ tháng sau, người bệnh ở {p} có thể khám vào sáng thứ Bảy, đăng ký qua tổng đài.", None),
    ("health", "negative", "Số ca sốt xuất huyết ở {p} tăng mạnh trong tháng này",
     "Trung tâm y tế {p} khuyến cáo người dân diệt lăng quăng, ngủ mùng kể cả ban ngày.", None),
    ("public_services", "positive", "Người dân {p} hài lòng với dịch vụ công trực tuyến",
     "Thủ tục đăng ký khai sinh nay làm trên điện thoại, không phải xếp hàng ở phường như trước.", None),
    ("public_services", "neutral", "{p} hướng dẫn nộp hồ sơ cấp giấy phép xây dựng qua mạng",
     "Cán bộ một cửa {p} sẽ hỗ trợ trực tiếp những hộ chưa quen thao tác trên cổng dịch vụ công.", None),
]
# Three forum posts in the last week are rude (their text replaced), for the toxic-content section.
RUDE = {4: ("hate", 0.91, "Bọn ở trọ tỉnh khác lên đây toàn xả rác bừa bãi, đuổi hết về quê cho sạch {p}."),
        9: ("offensive", 0.84, "Đm mưa chút xíu là nước lên tới gối, mấy ông quản lý ở {p} ăn hại thật sự."),
        14: ("offensive", 0.77, "Cái cổng dịch vụ công như cc, bấm cả buổi không vô nổi.")}
# hours before "now": 12 in the last 24 h, 8 the day before, 10 more within 7 days,
# 6 in the week before, 4 older; none close to a window edge.
AGES = ([1.5, 2, 3, 4.5, 6, 7, 9, 11, 13, 15, 18, 21]
        + [26, 28, 31, 34, 37, 40, 43, 46]
        + [52, 60, 72, 85, 97, 110, 122, 135, 148, 160]
        + [175, 190, 220, 250, 280, 320]
        + [400, 500, 650, 900])


def posts():
    out = []
    for n, age in enumerate(AGES):
        topic, sentiment, title, body, watchlist = TEMPLATES[(n * 7) % len(TEMPLATES)]
        place = PLACES[n % len(PLACES)]
        source, platform = SOURCES[n % len(SOURCES)]
        out.append({
            "age_h": age, "platform": platform, "source": source, "native_id": f"dash-{n:03d}",
            "url": f"http://127.0.0.1/{source}/bai-{n:03d}",
            "title": title.format(p=place), "text": body.format(p=place),
            "topics": [topic], "sentiment": sentiment, "sentiment_score": round(0.55 + (n % 9) * 0.05, 2),
            "places": [place], "watchlists": [watchlist] if watchlist else [],
            "engagement": {"likes": (n * 37) % 400, "comments": (n * 13) % 90, "shares": (n * 29) % 150},
            "author": {"id": f"u_{n % 6:04d}", "name": ["Minh Thư", "Hoàng Nam", "Ngọc Hân", "Quốc Bảo",
                                                          "Thanh Tâm", "Gia Huy"][n % 6]},
            "toxicity": "clean", "toxicity_score": round(0.02 + (n % 5) * 0.01, 2),
        })
        if n in RUDE:
            label, score, text = RUDE[n]
            out[-1].update(toxicity=label, toxicity_score=score, text=text.format(p=place))
    return out


RULES = [  # rule, technique id, technique name, title, explanation, evidence
    ("ssh_bruteforce", "T1110", "Brute Force", "Dò mật khẩu SSH từ {ip}",
     [("failed_logins", 240, 3, 0.7), ("distinct_users", 18, 1, 0.3)],
     ["sshd[812]: Failed password for root from {ip} port 52144 ssh2",
      "sshd[812]: Failed password for invalid user admin from {ip} port 52160 ssh2"]),
    ("port_scan", "T1046", "Network Service Discovery", "Quét cổng từ {ip}",
     [("distinct_ports", 950, 4, 0.8), ("syn_ratio", 0.97, 0.2, 0.2)],
     ["{ip} -> 10.10.0.20 SYN to 950 ports in 60 s"]),
    ("dns_tunnel", "T1071.004", "DNS", "Nghi vấn đường hầm DNS từ {ip}",
     [("query_entropy", 4.6, 2.1, 0.6), ("txt_queries", 320, 2, 0.4)],
     ["{ip} TXT a9f3k2l1m0.x.example-tunnel.test"]),
    ("anomaly_ecod", None, None, "Lưu lượng bất thường của {ip}",
     [("bytes_out", 8.2e8, 1.1e7, 0.55), ("flows", 4100, 300, 0.25), ("dst_ports", 40, 6, 0.2)],
     ["window 10:00-10:05: 820 MB out, 4100 flows"]),
]
IPS = ["10.0.0.5"] * 7 + ["10.0.0.9"] * 4 + ["192.168.1.23"] * 3 + ["10.0.3.14"] * 2 + \
      ["172.16.4.2", "10.0.7.7", "192.168.9.9", "10.0.8.1", "10.0.0.77"]
SEVS = ["critical", "high", "high", "medium", "medium", "low", "high", "medium", "low", "critical", "medium",
        "low", "high", "medium", "low", "medium", "high", "low", "medium", "high", "low"]
STATUS = ["open", "open", "acknowledged", "open", "in_progress", "closed", "open", "open", "closed", "open",
          "acknowledged", "open", "open", "closed", "open", "open", "in_progress", "open", "open", "closed", "open"]


def alerts():
    out = []
    for n, ip in enumerate(IPS):
        rule, tid, tname, title, expl, evidence = RULES[n % len(RULES)]
        sev = SEVS[n]
        risk = {"critical": 95, "high": 78, "medium": 55, "low": 25}[sev] - (n % 4)
        out.append({
            "age_h": 2 + n * 11, "rule.name": rule, "threat.technique.id": tid, "threat.technique.name": tname,
            "title": title.format(ip=ip), "source.ip": ip, "destination.ip": "10.10.0.20",
            "destination.port": 22 if rule == "ssh_bruteforce" else None, "entity": ip,
            "risk_score": risk, "severity": sev, "status": STATUS[n],
            "close_reason": "false_positive" if STATUS[n] == "closed" else None,
            "explanation": [{"feature": f, "observed": o, "baseline": b, "contribution": c} for f, o, b, c in expl],
            "evidence": [e.format(ip=ip) for e in evidence], "event.category": ["network"],
        })
    for n, (wl, title) in enumerate([("ngap-do-thi", "Đột biến thảo luận về ngập ở Ninh Kiều"),
                                     ("cau-can-tho", "Đột biến phản ánh ùn tắc cầu Cần Thơ"),
                                     ("ngap-do-thi", "Đột biến bài viết về triều cường")]):
        out.append({"age_h": 5 + n * 30, "module": "listening", "rule.name": "mention_spike", "title": title,
                    "entity": wl, "risk_score": 60, "severity": "medium", "status": "open",
                    "event.category": ["listening"]})
    return out


if __name__ == "__main__":
    for name, rows in (("posts", posts()), ("alerts", alerts())):
        with open(HERE / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
