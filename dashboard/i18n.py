"""Dashboard texts in Vietnamese (the default) and English; ``t(key)`` picks the session's language."""

from __future__ import annotations

import re
from typing import Any

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}

TEXTS: dict[str, dict[str, str]] = {
    # app and navigation
    "app.title": {"vi": "iocwatch – Trung tâm giám sát", "en": "iocwatch – Operation centre"},
    "nav.overview": {"vi": "Tổng quan", "en": "Overview"},
    "nav.listening": {"vi": "Lắng nghe", "en": "Listening"},
    "nav.search": {"vi": "Tìm kiếm", "en": "Search"},
    "nav.security": {"vi": "An ninh mạng", "en": "Security"},
    "nav.sources": {"vi": "Nguồn", "en": "Sources"},
    "nav.login": {"vi": "Đăng nhập", "en": "Log in"},
    "nav.users": {"vi": "Người dùng", "en": "Users"},
    "lang.label": {"vi": "Ngôn ngữ / Language", "en": "Language / Ngôn ngữ"},
    "sidebar.user": {"vi": "Đang đăng nhập: **{name}** ({role})", "en": "Signed in: **{name}** ({role})"},
    "sidebar.logout": {"vi": "Đăng xuất", "en": "Log out"},
    "sidebar.refresh": {"vi": "Làm mới dữ liệu", "en": "Refresh data"},
    "role.comms": {"vi": "truyền thông", "en": "communications"},
    "role.security": {"vi": "an ninh mạng", "en": "security"},
    "role.analyst": {"vi": "phân tích", "en": "analyst"},
    "role.admin": {"vi": "quản trị", "en": "administrator"},
    # login
    "login.heading": {"vi": "Đăng nhập hệ thống giám sát", "en": "Sign in to the monitoring system"},
    "login.username": {"vi": "Tên đăng nhập", "en": "Username"},
    "login.password": {"vi": "Mật khẩu", "en": "Password"},
    "login.submit": {"vi": "Đăng nhập", "en": "Sign in"},
    "login.sso": {"vi": "Đăng nhập bằng tài khoản tổ chức (SSO)", "en": "Sign in with the organisation account (SSO)"},
    "login.failed": {"vi": "Sai tên đăng nhập hoặc mật khẩu.", "en": "Wrong username or password."},
    "login.locked": {
        "vi": "Tài khoản tạm khoá do đăng nhập sai quá nhiều lần. Thử lại sau {seconds} giây.",
        "en": "Too many failed sign-ins. Try again in {seconds} seconds.",
    },
    "login.no_users": {
        "vi": "Chưa có người dùng nào. Tạo bằng lệnh `iocwatch users add TÊN --role admin`.",
        "en": "No users yet. Create one with `iocwatch users add NAME --role admin`.",
    },
    "login.oidc_unknown": {
        "vi": "Tài khoản {email} chưa được cấp quyền trong danh sách người dùng.",
        "en": "The account {email} has no role in the users file.",
    },
    "login.oidc_missing": {
        "vi": "Đăng nhập SSO đang bật nhưng máy chủ thiếu thư viện Authlib (pip install 'Authlib>=1.3.2').",
        "en": "SSO is enabled but the server lacks Authlib (pip install 'Authlib>=1.3.2').",
    },
    "login.required": {"vi": "Vui lòng đăng nhập.", "en": "Please sign in."},
    "login.expired": {
        "vi": "Phiên làm việc đã kết thúc (đăng xuất, quá lâu không thao tác hoặc hết hạn). "
              "Vui lòng đăng nhập lại.",
        "en": "Your session has ended (logged out, idle too long or expired). Please sign in again.",
    },
    "guard.forbidden": {
        "vi": "Vai trò «{role}» không được phép xem trang này.",
        "en": "The role “{role}” may not open this page.",
    },
    # common
    "common.range": {"vi": "Khoảng thời gian", "en": "Time range"},
    "range.24h": {"vi": "24 giờ qua", "en": "Last 24 hours"},
    "range.7d": {"vi": "7 ngày qua", "en": "Last 7 days"},
    "range.30d": {"vi": "30 ngày qua", "en": "Last 30 days"},
    "range.90d": {"vi": "90 ngày qua", "en": "Last 90 days"},
    "range.all": {"vi": "Toàn bộ", "en": "All time"},
    "common.choose": {"vi": "Chọn…", "en": "Choose…"},
    "common.topic": {"vi": "Chủ đề", "en": "Topic"},
    "common.source": {"vi": "Nguồn", "en": "Source"},
    "common.platform": {"vi": "Nền tảng", "en": "Platform"},
    "common.watchlist": {"vi": "Danh sách theo dõi", "en": "Watchlist"},
    "common.sentiment": {"vi": "Cảm xúc", "en": "Sentiment"},
    "common.place": {"vi": "Địa danh", "en": "Place"},
    "common.time": {"vi": "Thời gian", "en": "Time"},
    "common.count": {"vi": "Số lượng", "en": "Count"},
    "common.mentions": {"vi": "Số đề cập", "en": "Mentions"},
    "common.share": {"vi": "Tỷ trọng", "en": "Share"},
    "common.title": {"vi": "Tiêu đề", "en": "Title"},
    "common.link": {"vi": "Liên kết", "en": "Link"},
    "common.engagement": {"vi": "Tương tác", "en": "Engagement"},
    "common.published": {"vi": "Đăng lúc", "en": "Published"},
    "common.no_data": {"vi": "Chưa có dữ liệu trong khoảng này.", "en": "No data in this range."},
    "common.store_error": {"vi": "Không đọc được kho dữ liệu: {error}", "en": "Cannot read the store: {error}"},
    "common.change": {"vi": "Thay đổi", "en": "Change"},
    "common.previous": {"vi": "Kỳ trước", "en": "Previous period"},
    "common.current": {"vi": "Kỳ này", "en": "This period"},
    "sentiment.negative": {"vi": "Tiêu cực", "en": "Negative"},
    "sentiment.neutral": {"vi": "Trung tính", "en": "Neutral"},
    "sentiment.positive": {"vi": "Tích cực", "en": "Positive"},
    "sentiment.none": {"vi": "Chưa phân tích", "en": "Not analysed"},
    "toxicity.clean": {"vi": "Bình thường", "en": "Clean"},
    "toxicity.offensive": {"vi": "Xúc phạm", "en": "Offensive"},
    "toxicity.hate": {"vi": "Thù ghét", "en": "Hateful"},
    "common.toxicity": {"vi": "Mức độc hại", "en": "Toxicity"},
    "common.content": {"vi": "Nội dung", "en": "Content"},
    "severity.low": {"vi": "Thấp", "en": "Low"},
    "severity.medium": {"vi": "Trung bình", "en": "Medium"},
    "severity.high": {"vi": "Cao", "en": "High"},
    "severity.critical": {"vi": "Nghiêm trọng", "en": "Critical"},
    "status.open": {"vi": "Mới", "en": "Open"},
    "status.acknowledged": {"vi": "Đã tiếp nhận", "en": "Acknowledged"},
    "status.in_progress": {"vi": "Đang xử lý", "en": "In progress"},
    "status.closed": {"vi": "Đã đóng", "en": "Closed"},
    "reason.true_positive": {"vi": "Đúng là tấn công/sự cố", "en": "True positive"},
    "reason.false_positive": {"vi": "Báo động nhầm", "en": "False positive"},
    "reason.benign": {"vi": "Hoạt động hợp lệ", "en": "Benign"},
    # overview
    "overview.title": {"vi": "Tổng quan", "en": "Overview"},
    "overview.m24": {"vi": "Đề cập 24 giờ", "en": "Mentions, 24 h"},
    "overview.m7d": {"vi": "Đề cập 7 ngày", "en": "Mentions, 7 days"},
    "overview.neg": {"vi": "Tỷ lệ tiêu cực (7 ngày)", "en": "Negative share (7 days)"},
    "overview.open_alerts": {"vi": "Cảnh báo chưa đóng", "en": "Open alerts"},
    "overview.per_day": {"vi": "Đề cập theo ngày (7 ngày)", "en": "Mentions per day (7 days)"},
    "overview.alerts_by_sev": {"vi": "Cảnh báo an ninh chưa đóng theo mức độ",
                               "en": "Open security alerts by severity"},
    "overview.health": {"vi": "Tình trạng thu thập", "en": "Collection health"},
    "overview.no_status": {
        "vi": "Chưa có lần thu thập nào được ghi nhận.",
        "en": "No collection run recorded yet.",
    },
    # health / sources columns
    "health.name": {"vi": "Nguồn / đầu vào", "en": "Source / input"},
    "health.kind": {"vi": "Loại", "en": "Kind"},
    "health.kind.source": {"vi": "nguồn tin", "en": "source"},
    "health.kind.monitor": {"vi": "giám sát mạng", "en": "network monitor"},
    "health.last_run": {"vi": "Lần chạy gần nhất", "en": "Last run"},
    "health.last_success": {"vi": "Thành công gần nhất", "en": "Last success"},
    "health.ok": {"vi": "Ổn định", "en": "Healthy"},
    "health.yes": {"vi": "ổn định", "en": "healthy"},
    "health.no": {"vi": "LỖI", "en": "FAILING"},
    "health.items": {"vi": "Bản ghi", "en": "Items"},
    "health.errors": {"vi": "Lỗi", "en": "Errors"},
    "health.last_error": {"vi": "Lỗi gần nhất", "en": "Last error"},
    "health.runs": {"vi": "Số lần chạy", "en": "Runs"},
    "health.schedule": {"vi": "Chu kỳ (giây)", "en": "Schedule (s)"},
    # listening
    "listening.title": {"vi": "Lắng nghe mạng xã hội", "en": "Social listening"},
    "listening.filters": {"vi": "Bộ lọc", "en": "Filters"},
    "listening.total": {"vi": "Đề cập trong kỳ", "en": "Mentions in range"},
    "listening.neg": {"vi": "Tỷ lệ tiêu cực", "en": "Negative share"},
    "listening.sentiment_time": {"vi": "Cảm xúc theo thời gian", "en": "Sentiment over time"},
    "listening.spikes": {"vi": "Đột biến", "en": "Spikes"},
    "listening.spike_count": {"vi": "Số đột biến", "en": "Spikes"},
    "listening.topics": {"vi": "Phân bố chủ đề và thay đổi so với kỳ trước",
                         "en": "Topics and change from the previous period"},
    "listening.watchlists": {"vi": "Xu hướng danh sách theo dõi", "en": "Watchlist trends"},
    "listening.sov_source": {"vi": "Thị phần thảo luận theo nguồn", "en": "Share of voice by source"},
    "listening.sov_platform": {"vi": "Thị phần thảo luận theo nền tảng", "en": "Share of voice by platform"},
    "listening.places": {"vi": "Phân bố theo địa danh", "en": "Breakdown by place"},
    "listening.toxic": {"vi": "Nội dung độc hại (xúc phạm, thù ghét)", "en": "Toxic content (offensive, hateful)"},
    "listening.toxic_share": {"vi": "Tỷ lệ độc hại", "en": "Toxic share"},
    "listening.top_toxic": {"vi": "Bài, bình luận độc hại nhất", "en": "Most toxic posts and comments"},
    "listening.no_toxic": {"vi": "Không có nội dung độc hại trong khoảng này.",
                           "en": "No toxic content in this range."},
    "listening.top_negative": {"vi": "Bài tiêu cực nổi bật", "en": "Top negative posts"},
    "listening.top_engaged": {"vi": "Bài có nhiều tương tác nhất", "en": "Most-engaged posts"},
    # figures and their evidence (issue 19): notable lists, alert counts, talkers, explanations
    "notable.p_negative": {"vi": "Xác suất tiêu cực", "en": "Probability negative"},
    "notable.p_positive": {"vi": "Xác suất tích cực", "en": "Probability positive"},
    "notable.p_toxic": {"vi": "Xác suất độc hại", "en": "Probability toxic"},
    "listening.top_positive": {"vi": "Bài tích cực nổi bật", "en": "Top positive posts"},
    "overview.open_security": {"vi": "Cảnh báo an ninh chưa đóng", "en": "Open security alerts"},
    "overview.open_listening": {"vi": "Cảnh báo lắng nghe chưa đóng", "en": "Open listening alerts"},
    "overview.open_help": {"vi": "Cảnh báo chưa đóng ({range}), đúng như hàng đợi xử lý của chúng đếm.",
                           "en": "Alerts not closed ({range}), as their triage queue counts them."},
    "listening.queue": {"vi": "Hàng đợi cảnh báo lắng nghe (đột biến)", "en": "Listening alert queue (spikes)"},
    "listening.queue_empty": {"vi": "Không có cảnh báo lắng nghe chưa đóng.", "en": "No open listening alerts."},
    "listening.pick_alert": {"vi": "Chọn cảnh báo đột biến", "en": "Pick a spike alert"},
    "listening.spike_alert": {"vi": "Cảnh báo đột biến", "en": "Spike alert"},
    "listening.spike_chart": {"vi": "Đột biến thấy trên biểu đồ", "en": "Spike seen on the chart"},
    "listening.terms": {"vi": "Từ khoá tăng mạnh", "en": "Terms that rose"},
    "listening.sample": {"vi": "Bài mẫu", "en": "Sample post"},
    "listening.spike_posts": {"vi": "Xem {n} bài viết", "en": "Open {n} posts"},
    "listening.marks_help": {"vi": "Bấm vào một vạch đột biến để mở các bài viết đứng sau nó.",
                             "en": "Click a spike marker to open the posts behind it."},
    "listening.drill_help": {"vi": "Bấm vào một cột để mở các bài viết tương ứng ở trang Tìm kiếm.",
                             "en": "Click a bar to open its posts on the search page."},
    "security.talkers_ranked": {"vi": "Đối tượng có nhiều cảnh báo và rủi ro nhất (gồm IP bên ngoài)",
                                "en": "Top talkers by alerts and risk (external addresses included)"},
    "security.alerts": {"vi": "Số cảnh báo", "en": "Alerts"},
    "security.total_risk": {"vi": "Tổng điểm rủi ro", "en": "Total risk"},
    "security.where": {"vi": "Phạm vi", "en": "Where"},
    "security.internal": {"vi": "Nội bộ", "en": "Internal"},
    "security.external": {"vi": "Bên ngoài", "en": "External"},
    "security.rule_evidence": {"vi": "Bằng chứng của quy tắc: giá trị quan sát so với ngưỡng",
                               "en": "The rule's evidence: observed values against its thresholds"},
    "security.anomaly_evidence": {"vi": "Đặc trưng lệch xa mức nền của chính đối tượng này (xếp theo độ hiếm)",
                                  "en": "Features furthest from this entity's own baseline (rarest first)"},
    "security.threshold": {"vi": "Ngưỡng", "en": "Threshold"},
    "security.tail_p": {"vi": "Xác suất gặp giá trị này trở lên ở mức nền",
                        "en": "Baseline probability of this value or more"},
    "security.rarity": {"vi": "Độ hiếm (−log₁₀ p)", "en": "Rarity (−log₁₀ p)"},
    "security.crossed": {"vi": "Vượt ngưỡng", "en": "Crossed"},
    "security.crossed_yes": {"vi": "Có", "en": "Yes"},
    "security.crossed_no": {"vi": "Không", "en": "No"},
    "security.payload": {"vi": "Nội dung đã giải mã", "en": "Decoded payload"},
    "security.close_reason_is": {"vi": "Đã đóng – lý do: {reason}", "en": "Closed – reason: {reason}"},
    "security.reason_col": {"vi": "Lý do", "en": "Reason"},
    "history.status": {"vi": "Đổi trạng thái", "en": "Status change"},
    "history.assign": {"vi": "Giao việc", "en": "Assignment"},
    "history.comment": {"vi": "Ghi chú", "en": "Comment"},
    "security.unassigned": {"vi": "(chưa giao)", "en": "(unassigned)"},
    "security.related": {"vi": "Cảnh báo liên quan (cùng đối tượng, thời gian chồng lấn)",
                         "en": "Related alerts (same entity, overlapping time)"},
    "security.open_related": {"vi": "Mở", "en": "Open"},
    "sources.ran": {"vi": "Nguồn tin đã chạy", "en": "Sources that ran"},
    "range.custom": {"vi": "Chọn ngày…", "en": "Custom dates…"},
    "range.custom_days": {"vi": "Từ ngày – đến ngày", "en": "From – to"},
    "sources.none_ran": {"vi": "Chưa có nguồn tin nào chạy.", "en": "No source has run yet."},
    "sources.monitors": {"vi": "Đầu vào giám sát mạng (gói tin, dòng nhật ký)",
                         "en": "Network monitor inputs (packets, log lines)"},
    "sources.no_monitors": {"vi": "Chưa có đầu vào giám sát nào chạy.", "en": "No monitor input has run yet."},
    "sources.never_ran": {"vi": "Nguồn trong tệp cấu hình chưa từng chạy ({n})",
                          "en": "Sources in the file that never ran ({n})"},
    "sources.posts_stored": {"vi": "Bài đã lưu", "en": "Posts stored"},
    "security.entity_help": {"vi": "Một địa chỉ, một dải CIDR (10.20.1.0/24) hoặc phần đầu của tên/địa chỉ (10.20.)",
                             "en": "An address, a CIDR block (10.20.1.0/24) or the start of a name (10.20.)"},
    "security.bad_entity": {"vi": "Bộ lọc đối tượng không hợp lệ: {error}", "en": "Invalid entity filter: {error}"},
    "security.riskiest": {"vi": "Máy và tài khoản rủi ro nhất (24 giờ qua)", "en": "Riskiest hosts and users (24 h)"},
    "security.kind": {"vi": "Loại", "en": "Kind"},
    "security.kind.host": {"vi": "Máy", "en": "Host"},
    "security.kind.user": {"vi": "Tài khoản", "en": "User"},
    "security.entity_score": {"vi": "Điểm rủi ro đối tượng", "en": "Entity risk"},
    "security.last_seen": {"vi": "Lần cuối", "en": "Last seen"},
    "security.timeline_of": {"vi": "Dòng thời gian cảnh báo của", "en": "Alert timeline of"},
    "security.no_risky": {"vi": "Không có cảnh báo an ninh nào trong 24 giờ qua.",
                          "en": "No security alerts in the last 24 hours."},
    # search
    "search.title": {"vi": "Tìm kiếm", "en": "Search"},
    "search.query": {"vi": "Truy vấn (không phân biệt dấu; AND, OR, NOT, \"cụm từ\", trường:giá trị)",
                     "en": "Query (diacritic-insensitive; AND, OR, NOT, \"phrase\", field:value)"},
    "search.placeholder": {"vi": "vd: ngap AND (\"can tho\" OR ninh kieu) NOT quang cao",
                           "en": "e.g. flood AND (\"can tho\" OR ninh kieu) NOT advert"},
    "search.bad_query": {"vi": "Truy vấn không hợp lệ: {error}", "en": "Invalid query: {error}"},
    "search.results": {"vi": "{total} kết quả", "en": "{total} results"},
    "search.page": {"vi": "Trang", "en": "Page"},
    "search.detail": {"vi": "Chi tiết bài viết", "en": "Post detail"},
    "search.pick": {"vi": "Chọn bài để xem chi tiết", "en": "Pick a post to see its detail"},
    "search.over_time": {"vi": "Kết quả theo thời gian", "en": "Results over time"},
    "search.export": {"vi": "Xuất toàn bộ kết quả", "en": "Export every result"},
    "search.prepare": {"vi": "Chuẩn bị tệp xuất", "en": "Prepare export files"},
    "search.csv": {"vi": "Tải CSV", "en": "Download CSV"},
    "search.xlsx": {"vi": "Tải Excel", "en": "Download Excel"},
    "search.exported": {"vi": "Đã chuẩn bị {rows} dòng.", "en": "{rows} rows ready."},
    "search.original": {"vi": "Mở bài gốc", "en": "Open the original"},
    "search.bad_query_at": {"vi": "Truy vấn không hợp lệ ở cột {column}: {problem}.",
                            "en": "Invalid query at column {column}: {problem}."},
    "search.sort": {"vi": "Sắp xếp", "en": "Sort"},
    "search.sort.relevance": {"vi": "Liên quan nhất", "en": "Relevance"},
    "search.sort.newest": {"vi": "Mới nhất", "en": "Newest"},
    "search.sort.negative": {"vi": "Tiêu cực nhất", "en": "Most negative"},
    "search.open": {"vi": "Xem", "en": "Open"},
    "search.close": {"vi": "Đóng", "en": "Close"},
    "search.no_results": {"vi": "Không có bài nào khớp truy vấn và bộ lọc.",
                          "en": "No post matches the query and filters."},
    "search.card.labels": {"vi": "Nhãn", "en": "Labels"},
    "search.card.places": {"vi": "Địa danh", "en": "Places"},
    "search.card.keywords": {"vi": "Từ khoá", "en": "Keywords"},
    "search.card.unsure": {"vi": "chưa chắc", "en": "unsure"},
    "search.card.engagement": {"vi": "{likes} thích · {comments} bình luận · {shares} chia sẻ",
                               "en": "{likes} likes · {comments} comments · {shares} shares"},
    "search.help": {"vi": "Cú pháp và các trường tìm kiếm", "en": "Syntax and searchable fields"},
    "search.help.syntax": {
        "vi": "- `can tho`: mọi từ, không phân biệt dấu; bài có các từ đứng liền nhau xếp trước\n"
              "- `\"ngập lụt\"`: cụm từ (các từ liền nhau, đúng thứ tự)\n"
              "- `ngập OR lụt`, `ngập AND lụt` (AND là mặc định), `NOT quảng cáo`, `-quảng`\n"
              "- `(kẹt xe OR ùn tắc) cần thơ`: nhóm; AND ưu tiên hơn OR\n"
              "- `trường:giá trị`, `trường:\"cụm từ\"`, `trường:(a OR b)`\n"
              "- `ngập*`: các từ bắt đầu bằng «ngập» (không phân biệt dấu)\n"
              "- `likes:>100`, `date:[now-7d TO *]`: so sánh và khoảng cho số và ngày\n"
              "- Truy vấn sai cú pháp (ngoặc, dấu nháy chưa đóng, AND/OR/NOT lơ lửng, trường không có) "
              "bị từ chối kèm vị trí lỗi.",
        "en": "- `can tho`: every word, diacritics ignored; posts where they stand together rank first\n"
              "- `\"ngập lụt\"`: a phrase (the words together, in order)\n"
              "- `ngập OR lụt`, `ngập AND lụt` (AND is the default), `NOT quảng cáo`, `-quảng`\n"
              "- `(kẹt xe OR ùn tắc) cần thơ`: grouping; AND binds tighter than OR\n"
              "- `field:value`, `field:\"phrase\"`, `field:(a OR b)`\n"
              "- `ngập*`: words starting with «ngập» (diacritics ignored)\n"
              "- `likes:>100`, `date:[now-7d TO *]`: comparisons and ranges on numbers and dates\n"
              "- A malformed query (an unclosed parenthesis or quote, a dangling AND/OR/NOT, an unknown "
              "field) is refused with the place of the error.",
    },
    "search.help.field": {"vi": "Trường", "en": "Field"},
    "search.help.type": {"vi": "Kiểu", "en": "Type"},
    "search.help.about": {"vi": "Ý nghĩa", "en": "Meaning"},
    "search.ftype.text": {"vi": "văn bản", "en": "text"},
    "search.ftype.keyword": {"vi": "giá trị", "en": "value"},
    "search.ftype.date": {"vi": "ngày giờ", "en": "date"},
    "search.ftype.long": {"vi": "số nguyên", "en": "whole number"},
    "search.ftype.double": {"vi": "số", "en": "number"},
    "search.field.title": {"vi": "tiêu đề", "en": "title"},
    "search.field.text": {"vi": "nội dung", "en": "text"},
    "search.field.exact": {"vi": "đúng dấu: exact:\"Huế\" (không khớp Hue)", "en": "diacritic-precise: exact:\"Huế\""},
    "search.field.place": {"vi": "địa danh ở mọi cấp, tên trước và sau sáp nhập 2025: place:\"Ninh Kiều\"",
                           "en": "places at every level, names before and after the 2025 mergers"},
    "search.field.area": {"vi": "quận/huyện cũ: area:\"Ninh Kiều (Cần Thơ)\"",
                          "en": "former district: area:\"Ninh Kiều (Cần Thơ)\""},
    "search.field.source": {"vi": "nguồn", "en": "source"},
    "search.field.platform": {"vi": "nền tảng: news, facebook, youtube…", "en": "platform: news, facebook, youtube…"},
    "search.field.topic": {"vi": "chủ đề (mã): topic:traffic", "en": "topic id: topic:traffic"},
    "search.field.sentiment": {"vi": "cảm xúc: negative, neutral, positive", "en": "negative, neutral, positive"},
    "search.field.toxicity": {"vi": "độc hại: clean, offensive, hate", "en": "clean, offensive, hate"},
    "search.field.watchlist": {"vi": "danh sách theo dõi (mã)", "en": "watchlist name"},
    "search.field.keyword": {"vi": "từ khoá", "en": "key phrase"},
    "search.field.author": {"vi": "tác giả", "en": "author"},
    "search.field.lang": {"vi": "ngôn ngữ: vi, en…", "en": "language: vi, en…"},
    "search.field.likes": {"vi": "lượt thích: likes:>100", "en": "likes: likes:>100"},
    "search.field.comments": {"vi": "bình luận", "en": "comments"},
    "search.field.shares": {"vi": "chia sẻ", "en": "shares"},
    "search.field.views": {"vi": "lượt xem", "en": "views"},
    "search.field.date": {"vi": "ngày đăng: date:[2026-11-01 TO now]", "en": "published: date:[2026-11-01 TO now]"},
    "search.field.tag": {"vi": "thẻ", "en": "tag"},
    "search.field.url": {"vi": "địa chỉ bài", "en": "address"},
    "query.unclosed_quote": {"vi": "dấu nháy {quote} chưa được đóng", "en": "the quote {quote} is never closed"},
    "query.unclosed_group": {"vi": "dấu «(» chưa được đóng", "en": "'(' is never closed"},
    "query.unexpected_close": {"vi": "dấu «)» không có «(» tương ứng", "en": "')' has no matching '('"},
    "query.empty_group": {"vi": "cặp ngoặc «()» trống", "en": "'()' holds nothing"},
    "query.nothing_before": {"vi": "trước {op} không có điều kiện nào", "en": "{op} has no term before it"},
    "query.nothing_after": {"vi": "sau {op} không có điều kiện nào", "en": "{op} has nothing after it"},
    "query.missing_value": {"vi": "trường «{field}» chưa có giá trị", "en": "the field '{field}' has no value"},
    "query.unknown_field": {"vi": "không có trường «{field}» (xem danh sách trường bên dưới; đặt chữ có dấu hai "
                                  "chấm trong dấu nháy)",
                            "en": "unknown field '{field}' (see the fields below; put text with a colon in quotes)"},
    "query.bad_value": {"vi": "«{value}» không phải {ftype} hợp lệ cho trường «{field}»",
                        "en": "'{value}' is not a valid {ftype} for '{field}'"},
    "query.bad_range": {"vi": "khoảng phải viết dạng [từ TO đến] hoặc {từ TO đến}",  # never formatted
                        "en": "a range is written [from TO to] or {from TO to}"},
    "query.too_deep": {"vi": "lồng ngoặc quá {limit} cấp", "en": "nesting deeper than {limit} levels"},
    "query.unsupported_operator": {"vi": "chưa hỗ trợ {op} (tìm gần đúng, khoảng cách hoặc trọng số)",
                                   "en": "{op} (fuzzy, proximity or boost) is not supported"},
    "query.exact_prefix": {"vi": "tìm theo tiền tố (từ*) không dùng được với đúng dấu",
                           "en": "a prefix (word*) cannot be diacritic-precise"},
    # security
    "security.field": {"vi": "Trường", "en": "Field"},
    "security.value": {"vi": "Giá trị", "en": "Value"},
    "security.source": {"vi": "Nguồn phát hiện", "en": "Detection source"},
    "security.source.rule": {"vi": "Luật", "en": "Rule"},
    "security.source.anomaly": {"vi": "Bất thường", "en": "Anomaly"},
    "security.source.analytics": {"vi": "Phân tích hành vi", "en": "Behaviour analytics"},
    "security.source.sigma": {"vi": "Sigma", "en": "Sigma"},
    "security.source.intel": {"vi": "Tình báo mối đe doạ", "en": "Threat intel"},
    "security.detection_detail": {"vi": "Luật Sigma / chỉ dấu", "en": "Sigma rule / indicator"},
    "security.title": {"vi": "An ninh mạng", "en": "Network security"},
    "security.severity": {"vi": "Mức độ", "en": "Severity"},
    "security.status": {"vi": "Trạng thái", "en": "Status"},
    "security.rule": {"vi": "Quy tắc", "en": "Rule"},
    "security.technique": {"vi": "Kỹ thuật ATT&CK", "en": "ATT&CK technique"},
    "security.entity": {"vi": "Đối tượng (IP, người dùng, máy)", "en": "Entity (IP, user, host)"},
    "security.queue": {"vi": "Hàng đợi cảnh báo", "en": "Alert queue"},
    "security.queue_count": {"vi": "{total} cảnh báo khớp bộ lọc", "en": "{total} alerts match the filters"},
    "security.timeline": {"vi": "Dòng thời gian cảnh báo", "en": "Alert timeline"},
    "security.talkers": {"vi": "Địa chỉ nguồn hoạt động nhiều nhất", "en": "Top talkers (source addresses)"},
    "security.talker_ip": {"vi": "IP nguồn", "en": "Source IP"},
    "security.avg_risk": {"vi": "Rủi ro trung bình", "en": "Average risk"},
    "security.risk": {"vi": "Điểm rủi ro", "en": "Risk score"},
    "security.assignee": {"vi": "Người phụ trách", "en": "Assignee"},
    "security.detail": {"vi": "Chi tiết cảnh báo", "en": "Alert detail"},
    "security.pick": {"vi": "Chọn cảnh báo", "en": "Pick an alert"},
    "security.explanation": {"vi": "Giải thích: đặc trưng đóng góp vào điểm bất thường",
                             "en": "Explanation: features behind the anomaly score"},
    "security.feature": {"vi": "Đặc trưng", "en": "Feature"},
    "security.contribution": {"vi": "Mức đóng góp", "en": "Contribution"},
    "security.observed": {"vi": "Quan sát", "en": "Observed"},
    "security.baseline": {"vi": "Mức nền", "en": "Baseline"},
    "security.evidence": {"vi": "Bằng chứng", "en": "Evidence"},
    "security.history": {"vi": "Lịch sử xử lý", "en": "Triage history"},
    "security.triage": {"vi": "Xử lý cảnh báo", "en": "Triage"},
    "security.ack": {"vi": "Tiếp nhận", "en": "Acknowledge"},
    "security.start": {"vi": "Bắt đầu xử lý", "en": "Start work"},
    "security.assign": {"vi": "Giao việc", "en": "Assign"},
    "security.close": {"vi": "Đóng cảnh báo", "en": "Close"},
    "security.reopen": {"vi": "Mở lại", "en": "Re-open"},
    "security.reason": {"vi": "Lý do đóng", "en": "Close reason"},
    "security.note": {"vi": "Ghi chú", "en": "Note"},
    "security.done": {"vi": "Đã cập nhật cảnh báo: {status}", "en": "Alert updated: {status}"},
    "security.triage_failed": {"vi": "Không cập nhật được: {error}", "en": "Update failed: {error}"},
    "security.by": {"vi": "Người thực hiện", "en": "By"},
    "security.action": {"vi": "Thao tác", "en": "Action"},
    "security.no_explanation": {"vi": "Cảnh báo này không có phần giải thích.", "en": "This alert has no explanation."},
    # export columns and download
    "export.col.id": {"vi": "Mã bài", "en": "ID"},
    "export.col.published_at": {"vi": "Thời gian đăng", "en": "Published"},
    "export.col.source": {"vi": "Nguồn", "en": "Source"},
    "export.col.platform": {"vi": "Nền tảng", "en": "Platform"},
    "export.col.title": {"vi": "Tiêu đề", "en": "Title"},
    "export.col.text": {"vi": "Nội dung", "en": "Text"},
    "export.col.url": {"vi": "Đường dẫn", "en": "URL"},
    "export.col.author": {"vi": "Tác giả", "en": "Author"},
    "export.col.sentiment": {"vi": "Cảm xúc", "en": "Sentiment"},
    "export.col.sentiment_score": {"vi": "Điểm cảm xúc", "en": "Sentiment score"},
    "export.col.toxicity": {"vi": "Mức độc hại", "en": "Toxicity"},
    "export.col.topics": {"vi": "Chủ đề", "en": "Topics"},
    "export.col.places": {"vi": "Địa danh", "en": "Places"},
    "export.col.watchlists": {"vi": "Danh sách theo dõi", "en": "Watchlists"},
    "export.col.keywords": {"vi": "Từ khoá", "en": "Keywords"},
    "export.col.likes": {"vi": "Lượt thích", "en": "Likes"},
    "export.col.comments": {"vi": "Bình luận", "en": "Comments"},
    "export.col.shares": {"vi": "Chia sẻ", "en": "Shares"},
    "export.col.views": {"vi": "Lượt xem", "en": "Views"},
    "export.no_session": {
        "vi": "Không tải được tệp: bảng điều khiển cần được chạy bằng lệnh `iocwatch dashboard`.",
        "en": "Downloads need the dashboard started with `iocwatch dashboard`.",
    },
    # users (admins)
    "users.title": {"vi": "Quản lý người dùng", "en": "User management"},
    "users.name": {"vi": "Tên đăng nhập", "en": "Username"},
    "users.display_name": {"vi": "Tên hiển thị", "en": "Display name"},
    "users.role": {"vi": "Vai trò", "en": "Role"},
    "users.login": {"vi": "Cách đăng nhập", "en": "Sign-in"},
    "users.login.password": {"vi": "mật khẩu", "en": "password"},
    "users.login.oidc": {"vi": "SSO", "en": "SSO"},
    "users.failures": {"vi": "Lần đăng nhập sai", "en": "Failed sign-ins"},
    "users.locked": {"vi": "Tạm khoá", "en": "Locked"},
    "users.locked_for": {"vi": "Tạm khoá thêm {seconds} giây", "en": "Locked for another {seconds} s"},
    "users.not_locked": {"vi": "Không bị khoá", "en": "Not locked"},
    "users.add": {"vi": "Thêm người dùng", "en": "Add a user"},
    "users.add_submit": {"vi": "Thêm", "en": "Add"},
    "users.password": {"vi": "Mật khẩu", "en": "Password"},
    "users.password_help": {"vi": "Ít nhất {n} ký tự.", "en": "At least {n} characters."},
    "users.exists": {"vi": "Đã có người dùng «{name}».", "en": "There is already a user “{name}”."},
    "users.added": {"vi": "Đã thêm {name} với vai trò {role}.", "en": "Added {name} as {role}."},
    "users.edit": {"vi": "Sửa người dùng", "en": "Edit a user"},
    "users.pick": {"vi": "Chọn người dùng", "en": "Pick a user"},
    "users.change_role": {"vi": "Đổi vai trò", "en": "Change role"},
    "users.role_changed": {"vi": "Đã đổi vai trò của {name} thành {role}.", "en": "{name} is now {role}."},
    "users.new_password": {"vi": "Mật khẩu mới", "en": "New password"},
    "users.reset_password": {"vi": "Đặt lại mật khẩu", "en": "Reset password"},
    "users.password_reset": {"vi": "Đã đặt lại mật khẩu của {name}.", "en": "Password of {name} reset."},
    "users.unlock": {"vi": "Mở khoá", "en": "Unlock"},
    "users.unlocked": {"vi": "Đã mở khoá {name}.", "en": "{name} unlocked."},
    "users.failed": {"vi": "Không thực hiện được: {error}", "en": "Could not do that: {error}"},
    # sources
    "sources.title": {"vi": "Nguồn thu thập", "en": "Collection sources"},
    "sources.configured": {"vi": "Nguồn đã cấu hình", "en": "Configured sources"},
    "sources.status": {"vi": "Tình trạng chạy", "en": "Run status"},
    "sources.no_file": {"vi": "Không tìm thấy tệp cấu hình nguồn ({path}).",
                        "en": "No source configuration file found ({path})."},
    "sources.bad_file": {"vi": "Tệp cấu hình nguồn lỗi: {error}", "en": "The source file is malformed: {error}"},
    "sources.posts": {"vi": "Bài đã lưu theo nguồn", "en": "Stored posts per source"},
    "sources.name": {"vi": "Tên", "en": "Name"},
    "sources.url": {"vi": "Địa chỉ", "en": "URL"},
    "sources.type": {"vi": "Kiểu", "en": "Type"},
    "sources.enabled": {"vi": "Bật", "en": "Enabled"},
    "sources.items_errors": {"vi": "Bản ghi và lỗi ở lần chạy gần nhất", "en": "Items and errors in the last run"},
}


# English names of the taxonomy's topic ids (Vietnamese names come from the taxonomy file).
TOPICS_EN = {
    "security_order": "Security and public order", "traffic": "Traffic",
    "environment_disaster": "Environment, floods, disasters", "health": "Health", "education": "Education",
    "tourism": "Tourism", "public_services": "Public services", "economy_investment": "Economy, investment",
    "urban_construction": "Urban planning, construction", "information_security": "Information security",
    "culture_society": "Culture, society", "other": "Other",
}


# Names of the figures alerts are explained by (detector features, rule and analytic figures).
FEATURE_NAMES: dict[str, tuple[str, str]] = {
    "flows": ("Số kết nối", "Connections"), "packets": ("Số gói tin", "Packets"),
    "bytes_out": ("Dữ liệu gửi đi (byte)", "Bytes sent"), "bytes_in": ("Dữ liệu nhận về (byte)", "Bytes received"),
    "distinct_dst_ips": ("Số địa chỉ đích khác nhau", "Distinct destination addresses"),
    "distinct_dst_ports": ("Số cổng đích khác nhau", "Distinct destination ports"),
    "syn_no_ack_ratio": ("Tỷ lệ kết nối TCP không được trả lời", "Share of unanswered TCP connections"),
    "rejected_ratio": ("Tỷ lệ kết nối bị từ chối", "Share of refused connections"),
    "mean_flow_duration": ("Thời lượng kết nối trung bình (giây)", "Mean connection duration (s)"),
    "dns_queries": ("Số truy vấn DNS", "DNS queries"), "dns_query_len": ("Độ dài truy vấn DNS", "DNS query length"),
    "dns_entropy": ("Độ ngẫu nhiên tên miền truy vấn", "Randomness of queried names"),
    "dns_distinct_names": ("Số tên miền truy vấn khác nhau", "Distinct queried names"),
    "dns_label_len": ("Độ dài nhãn tên miền con", "Sub-domain label length"),
    "dns_label_entropy": ("Độ ngẫu nhiên nhãn tên miền con", "Sub-domain label randomness"),
    "dns_unique_ratio": ("Tỷ lệ tên miền con không lặp lại", "Share of unique sub-domains"),
    "unique_subdomains": ("Số tên miền con khác nhau", "Distinct sub-domains"),
    "encoded_share": ("Tỷ lệ nhãn mã hoá (base32/64, hex)", "Share of encoded labels"),
    "http_requests": ("Số yêu cầu HTTP", "HTTP requests"), "http_4xx_ratio": ("Tỷ lệ lỗi HTTP 4xx", "HTTP 4xx share"),
    "http_5xx_ratio": ("Tỷ lệ lỗi HTTP 5xx", "HTTP 5xx share"), "url_len": ("Độ dài URL", "URL length"),
    "url_entropy": ("Độ ngẫu nhiên URL", "URL randomness"),
    "failed_logins": ("Số lần đăng nhập thất bại", "Failed logins"),
    "successful_logins": ("Số lần đăng nhập thành công", "Successful logins"),
    "refused_logins": ("Số lần đăng nhập bị từ chối", "Refused logins"),
    "refused_ratio": ("Tỷ lệ đăng nhập bị từ chối", "Share of refused logins"),
    "distinct_users": ("Số tài khoản khác nhau", "Distinct accounts"),
    "distinct_sources": ("Số nguồn khác nhau", "Distinct sources"),
    "failed_before": ("Số lần thất bại trước khi vào được", "Failures before the success"),
    "failed_same_user": ("Số lần thất bại cùng tài khoản", "Failures on the same account"),
    "log_lines": ("Số dòng nhật ký", "Log lines"), "rare_templates": ("Số mẫu nhật ký hiếm", "Rare log templates"),
    "periodicity": ("Tính chu kỳ", "Periodicity"), "connections": ("Số kết nối", "Connections"),
    "mean_interval_s": ("Khoảng cách trung bình giữa kết nối (giây)", "Mean interval (s)"),
    "interval_cv": ("Độ dao động khoảng cách (CV)", "Interval variation (CV)"),
    "beacon_score": ("Điểm beacon", "Beacon score"),
    "destination_prevalence": ("Số máy nội bộ từng liên lạc đích", "Internal hosts contacting the destination"),
    "hosts_on_one_port": ("Số máy bị dò trên một cổng", "Hosts probed on one port"),
    "failed_ports_on_one_host": ("Số cổng dò thất bại trên một máy", "Failed ports on one host"),
    "failed_hosts_on_one_port": ("Số máy dò thất bại trên một cổng", "Failed hosts on one port"),
    "new_admin_edges": ("Số kết nối quản trị mới", "New admin connections"),
    "admin_hosts": ("Số máy được quản trị", "Administered hosts"),
    "duration_h": ("Thời lượng (giờ)", "Duration (h)"), "count": ("Tổng số sự kiện", "Events"),
    "sql_injection_requests": ("Yêu cầu chèn SQL", "SQL injection requests"),
    "xss_requests": ("Yêu cầu XSS", "XSS requests"),
    "path_traversal_requests": ("Yêu cầu duyệt thư mục", "Path traversal requests"),
    "command_injection_requests": ("Yêu cầu chèn lệnh", "Command injection requests"),
    "posts_per_hour": ("Số bài mỗi giờ", "Posts per hour"), "negative_share": ("Tỷ lệ tiêu cực", "Negative share"),
    "indicator_confidence": ("Độ tin cậy của chỉ dấu", "Indicator confidence"),
    "invalid_users": ("Số tài khoản không tồn tại", "Unknown accounts"),
    "domain_prevalence": ("Số máy nội bộ từng truy vấn tên miền", "Internal hosts querying the domain"),
    "peers_bytes_out": ("Lượng dữ liệu gửi ra của các máy cùng nhóm", "Peers' bytes out"),
    "night": ("Vào ban đêm", "At night"), "probes": ("Số lần dò", "Probes"), "ports": ("Số cổng", "Ports"),
    "rare_qtype_queries": ("Số truy vấn TXT/NULL/CNAME", "TXT/NULL/CNAME queries"),
    "span_h": ("Khoảng thời gian (giờ)", "Span (h)"),
    "log4shell_requests": ("Yêu cầu Log4Shell", "Log4Shell requests"),
    "shellshock_requests": ("Yêu cầu Shellshock", "Shellshock requests"),
    "ssrf_requests": ("Yêu cầu SSRF", "SSRF requests"),
    "web_shell_requests": ("Yêu cầu tới web shell", "Web shell requests"),
}


# Titles the product writes (Alert.title_key → Vietnamese, English), filled with Alert.title_params.
ALERT_TITLES: dict[str, tuple[str, str]] = {
    "port_scan.vertical": ("Dò quét cổng (dọc) từ {entity}: {ports} cổng trên {hosts} máy",
                           "Port scan (vertical) from {entity}: {ports} ports on {hosts} hosts"),
    "port_scan.horizontal": ("Dò quét cổng (ngang) từ {entity}: {ports} cổng trên {hosts} máy",
                             "Port scan (horizontal) from {entity}: {ports} ports on {hosts} hosts"),
    "ssh_brute_force": ("Dò mật khẩu SSH từ {entity}: {failures} lần đăng nhập thất bại vào {users} tài khoản",
                        "SSH brute force from {entity}: {failures} failed logins against {users} account(s)"),
    "password_spraying": ("Rải mật khẩu từ {entity}: thử {users} tài khoản",
                          "Password spraying from {entity}: {users} accounts tried"),
    "distributed_brute_force": ("Dò mật khẩu phân tán vào tài khoản {user}: {failures} lần thất bại từ {sources} nguồn",
                                "Distributed brute force against account {user}: {failures} failures from "
                                "{sources} sources"),
    "web_attack": ("Tấn công web từ {entity}: {kinds} ({requests} yêu cầu)",
                   "Web attack from {entity}: {kinds} ({requests} requests)"),
    "dns_tunnel": ("Đường hầm DNS từ {entity} qua {domain}: {queries} tên miền con dài, ngẫu nhiên",
                   "DNS tunnelling from {entity} through {domain}: {queries} long random sub-domains"),
    "beaconing": ("Kết nối định kỳ (beacon) từ {entity} đến {dst}, mỗi {interval} giây",
                  "Beaconing from {entity} to {dst} every {interval}s"),
    "anomaly": ("Hoạt động bất thường từ {entity}: {features}", "Unusual activity from {entity}: {features}"),
    "threat_intel": ("{context} {indicator} có trong nguồn tin tình báo {feed}{label}: {entity}",
                     "{context} {indicator} listed by feed {feed}{label}: {entity}"),
    "listening.volume_spike.watchlist": (
        "Lượng thảo luận về danh sách theo dõi «{name}» tăng đột biến (gấp {ratio:.1f} lần mức thường)",
        "Discussion of watchlist «{name}» spiked ({ratio:.1f} times the usual level)"),
    "listening.volume_spike.topic": (
        "Lượng thảo luận về chủ đề «{name}» tăng đột biến (gấp {ratio:.1f} lần mức thường)",
        "Discussion of topic «{name}» spiked ({ratio:.1f} times the usual level)"),
    "listening.negative_spike.watchlist": (
        "Tỷ lệ ý kiến tiêu cực về danh sách theo dõi «{name}» tăng đột biến ({now:.0%} so với {before:.0%})",
        "Negative share about watchlist «{name}» spiked ({now:.0%} against {before:.0%})"),
    "listening.negative_spike.topic": (
        "Tỷ lệ ý kiến tiêu cực về chủ đề «{name}» tăng đột biến ({now:.0%} so với {before:.0%})",
        "Negative share about topic «{name}» spiked ({now:.0%} against {before:.0%})"),
}
# Words inside title values: web attack kinds and the intel matcher's contexts.
TITLE_WORDS: dict[str, tuple[str, str]] = {
    "sql_injection": ("chèn SQL", "SQL injection"), "xss": ("XSS", "XSS"),
    "path_traversal": ("duyệt thư mục", "path traversal"), "command_injection": ("chèn lệnh", "command injection"),
    "log4shell": ("Log4Shell", "Log4Shell"), "shellshock": ("Shellshock", "Shellshock"), "ssrf": ("SSRF", "SSRF"),
    "web_shell": ("web shell", "web shell"),
    "connection to": ("Kết nối tới", "Connection to"), "connection from": ("Kết nối từ", "Connection from"),
    "DNS query for": ("Truy vấn DNS tên", "DNS query for"), "web request from": ("Yêu cầu web từ", "Web request from"),
    "web request involving": ("Yêu cầu web có", "Web request involving"),
    "crawled URL": ("Địa chỉ URL trong bài thu thập", "Crawled URL"),
}
# Behaviour analytics (security/analytics) write English titles with no key: in Vietnamese they
# are shown from these, by rule name (a variant by ATT&CK technique or a user entity), filled
# with the alert's own fields: {entity}, {to} (" đến <destination>" or ""), {user}, {count}, {before}.
ANALYTIC_TITLES: dict[str, str] = {
    "beaconing": "Kết nối định kỳ (beacon) từ {entity}{to}: {count} nhịp",
    "brute_force_slow": "Dò mật khẩu chậm từ {entity}: {count} lần đăng nhập thất bại",
    "brute_force_slow.T1110.003": "Rải mật khẩu từ {entity}: {count} lần đăng nhập thất bại",
    "brute_force_slow.user": "Dò mật khẩu phân tán vào tài khoản {user}: {count} lần thất bại",
    "dns_tunnel_slow": "Đường hầm DNS từ {entity}{to}: {count} truy vấn",
    "exfiltration": "Rò rỉ dữ liệu từ {entity}{to}: {count} kết nối",
    "lateral_movement": "Di chuyển ngang từ {entity}: {count} kết nối quản trị",
    "login_after_failures": "Đăng nhập thành công từ {entity} sau {before} lần thất bại",
    "long_connection": "Kết nối kéo dài bất thường từ {entity}{to}",
    "slow_scan": "Dò quét chậm từ {entity}: {count} lần dò",
    "credential_stuffing": "Nhồi thông tin đăng nhập từ {entity}: {count} lần đăng nhập web bị từ chối",
    "web_exploit": "Khai thác ứng dụng web từ {entity}: {count} yêu cầu",
    "web_exploit.T1505.003": "Truy cập web shell từ {entity}: {count} yêu cầu",
}


# Titles stored before title keys, as the product wrote them (built-in rules in English, spikes in
# Vietnamese): (whole-title pattern, Vietnamese, English) replacements; None keeps the title.
STORED_TITLES: list[tuple[re.Pattern[str], str | None, str | None]] = [
    (re.compile(r"^Port scan \(vertical\) from (\S+): (\d+) ports on (\d+) hosts$"),
     r"Dò quét cổng (dọc) từ \1: \2 cổng trên \3 máy", None),
    (re.compile(r"^Port scan \(horizontal\) from (\S+): (\d+) ports on (\d+) hosts$"),
     r"Dò quét cổng (ngang) từ \1: \2 cổng trên \3 máy", None),
    (re.compile(r"^SSH brute force from (\S+): (\d+) failed logins against (\d+) account\(s\)$"),
     r"Dò mật khẩu SSH từ \1: \2 lần đăng nhập thất bại vào \3 tài khoản", None),
    (re.compile(r"^Password spraying from (\S+): (\d+) accounts tried$"),
     r"Rải mật khẩu từ \1: thử \2 tài khoản", None),
    (re.compile(r"^Distributed brute force against account (.+): (\d+) failures from (\d+) sources$"),
     r"Dò mật khẩu phân tán vào tài khoản \1: \2 lần thất bại từ \3 nguồn", None),
    (re.compile(r"^Web attack from (\S+): (.+) \((\d+) requests\)$"), r"Tấn công web từ \1: \2 (\3 yêu cầu)", None),
    (re.compile(r"^DNS tunnelling from (\S+) through (\S+): (\d+) long random sub-domains$"),
     r"Đường hầm DNS từ \1 qua \2: \3 tên miền con dài, ngẫu nhiên", None),
    (re.compile(r"^Beaconing from (\S+) to (\S+) every (\d+)s$"),
     r"Kết nối định kỳ (beacon) từ \1 đến \2, mỗi \3 giây", None),
    (re.compile(r"^Unusual activity from (\S+): (.*)$"), r"Hoạt động bất thường từ \1: \2", None),
    (re.compile(r"^Lượng thảo luận về danh sách theo dõi «(.+)» tăng đột biến \(gấp ([\d.]+) lần mức thường\)$"),
     None, r"Discussion of watchlist «\1» spiked (\2 times the usual level)"),
    (re.compile(r"^Lượng thảo luận về chủ đề «(.+)» tăng đột biến \(gấp ([\d.]+) lần mức thường\)$"),
     None, r"Discussion of topic «\1» spiked (\2 times the usual level)"),
    (re.compile(r"^Tỷ lệ ý kiến tiêu cực về danh sách theo dõi «(.+)» tăng đột biến \((\d+%) so với (\d+%)\)$"),
     None, r"Negative share about watchlist «\1» spiked (\2 against \3)"),
    (re.compile(r"^Tỷ lệ ý kiến tiêu cực về chủ đề «(.+)» tăng đột biến \((\d+%) so với (\d+%)\)$"),
     None, r"Negative share about topic «\1» spiked (\2 against \3)"),
]


def _stored_title(title: str, lang: str) -> str | None:
    """A title stored before title keys in ``lang``, when it is one the product wrote."""
    for pattern, vi, en in STORED_TITLES:
        repl = en if lang == "en" else vi
        if pattern.match(title):
            if repl is None:
                return title
            out = pattern.sub(repl, title)
            return out.replace("(baseline ", "(mức nền ") if lang != "en" else out
    return None


def _word(value: Any, lang: str) -> str:
    pair = TITLE_WORDS.get(str(value))
    return str(value) if pair is None else pair[1 if lang == "en" else 0]


def alert_title(doc: dict[str, Any], lang: str | None = None) -> str:
    """An alert's title in the UI language, from its stored document (ECS names).

    The product's titles are rebuilt from ``title_key`` and ``title_params``; those stored before
    title keys are translated by :data:`STORED_TITLES`; analytics titles (no key) are shown in
    Vietnamese from :data:`ANALYTIC_TITLES`; Sigma rule titles (the rule author's text) and
    anything unknown show ``title`` as stored (the rule name when there is none).
    """
    lang = lang or current_language()
    stored = doc.get("title") or doc.get("rule.name") or ""
    key, params = doc.get("title_key"), dict(doc.get("title_params") or {})
    pair = ALERT_TITLES.get(key or "")
    if pair is not None:
        if key == "anomaly":
            params["features"] = ", ".join(
                f"{feature_name(f, lang)} = {o:g} ({'mức nền' if lang != 'en' else 'baseline'} {b:g})"
                if b is not None else f"{feature_name(f, lang)} = {o:g}"
                for f, o, b in params.get("features") or [])
        if key == "web_attack":
            params["kinds"] = ", ".join(_word(k, lang) for k in params.get("kinds") or [])
        if key == "threat_intel":
            params["context"] = _word(params.get("context"), lang)
            params["label"] = f" ({params['label']})" if params.get("label") else ""
        try:
            return pair[1 if lang == "en" else 0].format(**params)
        except (KeyError, ValueError, TypeError, IndexError):
            return stored  # values from another version of the product: the stored text is still right
    if doc.get("rule.ruleset") in ("sigma", "intel") or key:
        return stored
    old = _stored_title(stored, lang)
    if old is not None:
        return old
    if lang == "en":
        return stored
    rule, entity = doc.get("rule.name") or "", str(doc.get("entity") or doc.get("source.ip") or "")
    variants = [f"{rule}.{doc.get('threat.technique.id')}", f"{rule}.user" if entity.startswith("user:") else "", rule]
    template = next((ANALYTIC_TITLES[v] for v in variants if v in ANALYTIC_TITLES), None)
    if template is None:
        return stored
    dst = doc.get("destination.domain") or doc.get("destination.ip")
    if dst and doc.get("destination.port") is not None and not doc.get("destination.domain"):
        dst = f"{dst}:{doc['destination.port']}"
    count = int(doc.get("count") or 1)
    return template.format(entity=entity, to=f" đến {dst}" if dst else "", count=count, before=max(0, count - 1),
                           user=doc.get("user.name") or entity.removeprefix("user:"))


# Evidence lines the product writes: (pattern, Vietnamese, English) replacements; None keeps the
# line as written. Raw log lines and payloads match none and are shown as they are.
EVIDENCE_PHRASES: list[tuple[re.Pattern[str], str | None, str | None]] = [
    (re.compile(r" at \+([\d.]+)s, ([\d,]+) bytes out$"), r" lúc +\1 giây, \2 byte gửi ra", None),
    (re.compile(r" at \+([\d.]+)s$"), r" lúc +\1 giây", None),
    (re.compile(r" ports (\[[\d, ]*\])$"), r" cổng \1", None),
    (re.compile(r"^(\S+ -> \S+) ([\d,]+) bytes$"), r"\1 \2 byte", None),
    (re.compile(r" open for ([\d.]+) h$"), r" mở trong \1 giờ", None),
    (re.compile(r" \(new\)$"), " (mới)", None),
    (re.compile(r"^(\S+ -> \S+) failed$"), r"\1 thất bại", None),
    (re.compile(r"^(\S+ -> \S+) answered$"), r"\1 có phản hồi", None),
    (re.compile(r"^sources: "), "nguồn: ", None),
    (re.compile(r"^(\d+) bài trong (\d+) giờ qua, trung bình ([\d.]+) bài/giờ so với ([\d.]+) bài/giờ "
                r"trong (\d+) ngày trước đó \(p = ([^)]+)\)$"),
     None, r"\1 posts in the last \2 h, \3 posts/h against \4 posts/h over the \5 days before (p = \6)"),
    (re.compile(r"^Chiếm (\d+%) tổng số bài trong cửa sổ, so với (\d+%) trước đó$"),
     None, r"\1 of all posts in the window, against \2 before"),
    (re.compile(r"^(\d+)/(\d+) bài tiêu cực trong (\d+) giờ qua so với (\d+)/(\d+) trong (\d+) ngày trước "
                r"đó \(p = ([^)]+)\)$"),
     None, r"\1/\2 negative posts in the last \3 h against \4/\5 over the \6 days before (p = \7)"),
    (re.compile(r"^Giờ cao điểm: (.+) với (\d+) bài$"), None, r"Peak hour: \1 with \2 posts"),
    (re.compile(r"^Từ khoá tăng mạnh: "), None, "Rising keywords: "),
    (re.compile(r"\((\d+) bài, trước đó (\d+)\)"), None, r"(\1 posts, \2 before)"),
]


def evidence_line(line: str, lang: str | None = None) -> str:
    """An evidence line with the words the product wrote in it in the UI language."""
    lang = lang or current_language()
    for pattern, vi, en in EVIDENCE_PHRASES:
        repl = en if lang == "en" else vi
        if repl is not None:
            line = pattern.sub(repl, line)
    return line


# Labels of the alert fields shown beside the evidence (stored ECS names → Vietnamese, English).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "source.ip": ("Địa chỉ nguồn", "Source address"), "destination.ip": ("Địa chỉ đích", "Destination address"),
    "destination.port": ("Cổng đích", "Destination port"),
    "destination.domain": ("Tên miền đích", "Destination domain"),
    "user.name": ("Tài khoản", "User name"), "host.name": ("Tên máy", "Host name"), "entity": ("Đối tượng", "Entity"),
    "count": ("Số sự kiện", "Events"), "first_seen": ("Thấy lần đầu", "First seen"),
    "last_seen": ("Thấy lần cuối", "Last seen"), "rule.id": ("Mã luật", "Rule id"),
    "rule.level": ("Mức của luật", "Rule level"), "tags": ("Nhãn", "Tags"),
    "threat.feed.name": ("Nguồn tin tình báo", "Intel feed"), "threat.indicator.name": ("Chỉ dấu", "Indicator"),
    "threat.indicator.type": ("Loại chỉ dấu", "Indicator type"),
    "threat.indicator.confidence": ("Độ tin cậy", "Confidence"),
}


def field_label(name: str, lang: str | None = None) -> str:
    """A stored alert field's label in the UI language (its name when it has none)."""
    pair = FIELD_LABELS.get(name)
    return name if pair is None else pair[1 if (lang or current_language()) == "en" else 0]


def feature_name(name: str, lang: str | None = None) -> str:
    """A feature's name in the session's language (its id, spaced, when it has none)."""
    names = FEATURE_NAMES.get(name)
    if names is None:
        return name.replace("_", " ")
    return names[1] if (lang or current_language()) == "en" else names[0]


def translate(key: str, lang: str = "vi", **values: Any) -> str:
    """The text for ``key`` in ``lang`` (falls back to Vietnamese, then to the key itself)."""
    entry = TEXTS.get(key)
    text = key if entry is None else entry.get(lang) or entry["vi"]
    return text.format(**values) if values else text


def current_language() -> str:
    """The language chosen in this session (the settings default until the user switches)."""
    import streamlit as st

    lang = st.session_state.get("lang")
    if lang in LANGUAGES:
        return lang
    from core.settings import get_settings

    return get_settings().dashboard.language


def t(key: str, **values: Any) -> str:
    """Translate ``key`` into the session's language."""
    return translate(key, current_language(), **values)
