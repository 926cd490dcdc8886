"""The demo crisis: a burst of complaints injected into the demo site so ``serve --demo`` shows a spike.

The texts are built from fragments written for iocwatch: residents of Cần Thơ reporting
a water outage, the kind of sudden wave of posts communications staff must see early.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

_WHERE = ["phường An Khánh", "phường Hưng Lợi", "đường 30 Tháng 4", "khu dân cư Nam Long",
          "phường Cái Khế", "hẻm 51 Trần Hưng Đạo", "khu tái định cư Cửu Long", "phường Xuân Khánh"]
_SINCE = ["từ tối qua", "từ 5 giờ sáng nay", "hai ngày nay", "từ hôm qua tới giờ", "cả buổi sáng"]
_OPEN = ["Mất nước sinh hoạt ở {w} {s}", "Cả xóm ở {w} bị cúp nước {s}",
         "Nhà tôi ở {w} mất nước {s}", "Khu {w} không có một giọt nước {s}"]
_PAIN = ["không ai thông báo gì hết", "gọi tổng đài mãi không ai bắt máy",
         "con nhỏ không có nước tắm", "quán ăn phải đóng cửa", "phải đi mua từng can nước",
         "người già trong nhà rất khổ"]
_ASK = ["Đề nghị công ty cấp nước trả lời rõ khi nào có nước lại!",
        "Mong chính quyền vào cuộc sớm.", "Bức xúc thật sự, ai chịu trách nhiệm đây?",
        "Xin hỏi bao giờ mới khắc phục xong?", "Thật quá đáng!"]
_PLATFORMS = ["telegram", "facebook", "telegram"]  # collected by demo-tg-tinnongcantho and demo-facebook


def spike_posts(n: int = 40, *, now: datetime | None = None, seed: int = 11,
                hours: float = 2.0) -> list[dict[str, Any]]:
    """``n`` complaints about a water outage spread over the last ``hours`` (extra demo posts)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    out = []
    for k in range(n):
        where, since = rng.choice(_WHERE), rng.choice(_SINCE)
        text = (f"{rng.choice(_OPEN).format(w=where, s=since)}, {rng.choice(_PAIN)}. "
                f"{rng.choice(_ASK)}")
        out.append({"platform": _PLATFORMS[k % len(_PLATFORMS)], "text": text,
                    "title": f"Mất nước kéo dài ở {where}",
                    "published_at": now - timedelta(minutes=int(hours * 60 * k / max(n, 1)) + 2),
                    "author": f"Người dân {where}", "topic": "dien-nuoc"})
    return out
