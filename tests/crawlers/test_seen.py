"""Fingerprints, simhash near-duplicates and the persisted memory of collected posts."""

from __future__ import annotations

from core.documents import Post
from crawlers.seen import SeenStore, fingerprint, is_near, jaccard, minhash, simhash

ARTICLE = ("Chiều 17-11, mưa lớn kéo dài gần hai giờ khiến nhiều tuyến đường ở trung tâm thành phố Cần Thơ "
           "ngập sâu, trong đó đoạn đường Mậu Thân gần chợ Xuân Khánh ngập hơn nửa mét. Nhiều xe máy chết "
           "máy giữa dòng nước, người dân phải dắt bộ qua đoạn đường ngập. Một số cửa hàng ven đường phải kê "
           "cao hàng hóa để tránh nước tràn vào. Theo Trung tâm Điều hành đô thị thông minh, cảm biến mực nước "
           "tại khu vực ghi nhận mức ngập cao nhất lúc 16 giờ 20 phút. Các lực lượng chức năng đã có mặt để "
           "hướng dẫn giao thông và hỗ trợ người dân di chuyển an toàn qua khu vực ngập.")
OTHER = ("Sáng 18-11, cây cầu mới bắc qua rạch Cái Răng chính thức thông xe, giúp người dân rút ngắn gần "
         "hai mươi phút mỗi chuyến đi vào trung tâm thành phố. Người dân trong khu vực bày tỏ phấn khởi khi "
         "công trình hoàn thành sớm hơn kế hoạch gần một tháng. Theo Sở Xây dựng, cầu có tổng chiều dài hơn "
         "hai trăm mét, gồm bốn làn xe và hai lối đi bộ hai bên, kinh phí hơn ba trăm tỷ đồng.")


def _dist(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def test_seen_fingerprint_ignores_case_diacritics_and_spacing():
    assert fingerprint("Tiêu đề", "Nội  dung\nbài") == fingerprint("tieu de", "noi dung bai")
    assert fingerprint("Tiêu đề", "Nội dung") != fingerprint("Tiêu đề", "Nội dung khác")


def test_seen_simhash_and_minhash_separate_reposts_from_other_articles():
    repost = "Theo Báo Cần Thơ: " + ARTICLE.replace("16 giờ 20 phút", "16 giờ 25 phút")
    assert _dist(simhash(ARTICLE), simhash(repost)) <= 8
    assert _dist(simhash(ARTICLE), simhash(OTHER)) > 14
    assert jaccard(minhash(ARTICLE), minhash(repost)) >= 0.8
    assert jaccard(minhash(ARTICLE), minhash(OTHER)) < 0.2
    assert is_near(simhash(ARTICLE), minhash(ARTICLE), simhash(repost), minhash(repost))
    assert not is_near(simhash(ARTICLE), minhash(ARTICLE), simhash(OTHER), minhash(OTHER))
    # sharing half of the sentences is not a repost
    half = ARTICLE[: len(ARTICLE) // 2] + OTHER[len(OTHER) // 2:]
    assert not is_near(simhash(ARTICLE), minhash(ARTICLE), simhash(half), minhash(half))
    assert simhash("quá ngắn để so") is None and minhash("quá ngắn để so") is None


def test_seen_store_persists_and_finds_near_duplicates(tmp_path):
    path = tmp_path / "seen.sqlite"
    store = SeenStore(path)
    orig = Post.new(platform="news", source="a", url="http://127.0.0.1/tin/1.html?utm_source=x",
                    title="Ngập", text=ARTICLE)
    store.add_many([orig])
    store.close()
    store = SeenStore(path)  # reopened: state is on disk
    assert store.has_url("http://127.0.0.1/tin/1.html")  # canonical URL
    assert store.has_id(orig.id) and store.fingerprint_of(orig.id) == fingerprint("Ngập", ARTICLE)
    assert store.same_content(fingerprint("Ngập", ARTICLE)) == (orig.id, "a")
    repost = "Ngập\nTheo Báo Cần Thơ: " + ARTICLE
    assert store.near_duplicate(simhash(repost), minhash(repost)) == orig.id
    assert store.near_duplicate(simhash("Cầu\n" + OTHER), minhash("Cầu\n" + OTHER)) is None
    same = "Ngập\n" + ARTICLE
    assert store.near_duplicate(simhash(same), minhash(same), exclude_id=orig.id) is None
    assert store.count() == 1
