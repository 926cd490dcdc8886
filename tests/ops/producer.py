"""Deterministic Vietnamese posts for the no-loss tests (ids depend only on batch and position)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.documents import Post

_PLACES = ["Cần Thơ", "Đà Nẵng", "Hải Phòng", "Huế", "Vũng Tàu", "Quy Nhơn"]
_SUBJECTS = ["Người dân phản ánh", "Báo địa phương đưa tin", "Cư dân mạng bàn tán",
             "Chính quyền phường thông báo"]
_EVENTS = ["đường ngập sâu sau cơn mưa lớn chiều qua", "đèn giao thông ở ngã tư bị hỏng cả buổi sáng",
           "rác thải tồn đọng nhiều ngày trên vỉa hè", "xe buýt mới chạy đúng giờ hơn hẳn",
           "công viên ven sông vừa được sửa sang sạch đẹp"]


def make_post(batch: int, pos: int) -> Post:
    n = batch * 1000 + pos
    place = _PLACES[n % len(_PLACES)]
    text = f"{_SUBJECTS[n % len(_SUBJECTS)]} {_EVENTS[(n // 3) % len(_EVENTS)]} tại {place} (tin số {n})."
    return Post.new(platform="news", source="bao-thu-nghiem", url=f"http://127.0.0.1/tin/{batch}/{pos}",
                    title=f"Tin {place} số {n}", text=text,
                    published_at=datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=n))


def make_batch(batch: int, size: int) -> list[Post]:
    return [make_post(batch, i) for i in range(size)]
