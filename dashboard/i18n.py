"""Dashboard texts in Vietnamese (the default) and English; ``t(key)`` picks the session's language."""

from __future__ import annotations

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
    "overview.alerts_by_sev": {"vi": "Cảnh báo chưa đóng theo mức độ", "en": "Open alerts by severity"},
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
              "- `likes:>100`, `date:[now-7d TO *]`: so sánh và khoảng cho số và ngày\n"
              "- Truy vấn sai cú pháp (ngoặc, dấu nháy chưa đóng, AND/OR/NOT lơ lửng, trường không có) "
              "bị từ chối kèm vị trí lỗi.",
        "en": "- `can tho`: every word, diacritics ignored; posts where they stand together rank first\n"
              "- `\"ngập lụt\"`: a phrase (the words together, in order)\n"
              "- `ngập OR lụt`, `ngập AND lụt` (AND is the default), `NOT quảng cáo`, `-quảng`\n"
              "- `(kẹt xe OR ùn tắc) cần thơ`: grouping; AND binds tighter than OR\n"
              "- `field:value`, `field:\"phrase\"`, `field:(a OR b)`\n"
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
    # security
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
