"""Vietnamese text fragments of the demo site, written for iocwatch.

Everything here is invented: places are real wards and streets of Cần Thơ, but the
events, people, figures and quotes are made up for the demo and the tests. Each topic
has title templates and body sentences per polarity; the generator combines them.
Placeholders: {place} {street} {num} {num2} {hour} {agency} {person}.
"""

from __future__ import annotations

PLACES = [
    "phường Ninh Kiều", "phường Cái Khế", "phường Tân An", "phường An Bình", "phường Hưng Phú",
    "phường Cái Răng", "phường Bình Thủy", "phường Long Tuyền", "phường Ô Môn", "phường Thốt Nốt",
    "xã Phong Điền", "xã Thới Lai", "xã Cờ Đỏ", "xã Vĩnh Thạnh", "phường Vị Thanh", "phường Sóc Trăng",
]
STREETS = [
    "đường 30 Tháng 4", "đường Mậu Thân", "đường Nguyễn Văn Cừ", "đường Trần Hưng Đạo",
    "đường 3 Tháng 2", "đường Hòa Bình", "đường Cách Mạng Tháng 8", "đường Trần Văn Khéo",
    "đường Võ Văn Kiệt", "đường Quang Trung", "đường Nguyễn Văn Linh", "đường Lê Hồng Phong",
    "đường Trần Ngọc Quế", "đường Hai Bà Trưng", "đường Nguyễn Trãi", "đường Lý Tự Trọng",
]
AGENCIES = [
    "Sở Xây dựng", "Sở Tài nguyên và Môi trường", "Công an thành phố", "Sở Y tế",
    "Sở Giáo dục và Đào tạo", "Công ty Điện lực Cần Thơ", "Công ty Cấp thoát nước Cần Thơ",
    "Trung tâm Phục vụ hành chính công", "Ủy ban nhân dân phường", "Trung tâm Điều hành đô thị thông minh",
]
# Which agencies speak about which topic (the generator picks from these).
TOPIC_AGENCIES = {
    "ngap-lut": ["Sở Xây dựng", "Công ty Cấp thoát nước Cần Thơ", "Ủy ban nhân dân phường",
                 "Trung tâm Điều hành đô thị thông minh"],
    "giao-thong": ["Sở Xây dựng", "Công an thành phố", "Trung tâm Điều hành đô thị thông minh"],
    "moi-truong": ["Sở Tài nguyên và Môi trường", "Ủy ban nhân dân phường"],
    "dich-vu-cong": ["Trung tâm Phục vụ hành chính công", "Ủy ban nhân dân phường"],
    "dien-nuoc": ["Công ty Điện lực Cần Thơ", "Công ty Cấp thoát nước Cần Thơ"],
    "an-ninh-mang": ["Công an thành phố", "Trung tâm Điều hành đô thị thông minh"],
    "y-te": ["Sở Y tế", "Ủy ban nhân dân phường"],
    "du-lich": ["Ủy ban nhân dân phường", "Trung tâm Điều hành đô thị thông minh"],
    "giao-duc": ["Sở Giáo dục và Đào tạo", "Ủy ban nhân dân phường"],
}
PERSONS = [
    "ông Nguyễn Văn Hùng", "bà Trần Thị Mai", "ông Lê Minh Tâm", "bà Phạm Ngọc Hân",
    "ông Võ Thanh Sang", "bà Huỳnh Thị Thu", "ông Đặng Quốc Bảo", "bà Lý Mỹ Linh",
    "anh Trương Hoàng Phúc", "chị Nguyễn Thị Bích", "anh Lâm Chí Thiện", "chị Dương Kim Ngân",
]
REPORTERS = ["Minh Khôi", "Thanh Trúc", "Hoàng Yến", "Quốc Duy", "Ngọc Hà", "Tấn Phát", "Bảo Trân", "Gia Huy"]
READERS = [
    "Tuấn Anh", "Cô Ba Ninh Kiều", "Hải Đăng", "Người Cái Răng", "Thu Hà", "Út Mười", "Khánh Vy",
    "Anh Tư xe ôm", "Mẹ bé Na", "Phong Trần", "Bích Ngọc", "Hậu Giang quê tôi", "Sáu Lành", "Minh Nhựt",
]

# topic -> {"titles": {polarity: [...]}, "body": {polarity: [...]}, "context": [...],
#           "social": {polarity: [...]}, "comments": {polarity: [...]}}
TOPICS: dict[str, dict] = {
    "ngap-lut": {
        "label": "Ngập lụt, triều cường",
        "titles": {
            "negative": [
                "Triều cường dâng cao, nhiều tuyến đường ở {place} ngập sâu",
                "Mưa lớn kéo dài, {street} biến thành sông",
                "Người dân {place} khổ sở vì ngập nước suốt nhiều ngày",
                "Cống thoát nước tắc nghẽn, khu dân cư {place} ngập sau mỗi cơn mưa",
                "Sạt lở bờ sông ở {place}, {num} hộ dân phải di dời khẩn cấp",
            ],
            "positive": [
                "Hoàn thành tuyến cống mới, {street} hết cảnh ngập sau mưa",
                "Dự án chống ngập trung tâm thành phố phát huy hiệu quả",
                "Kè sông ở {place} hoàn thành, người dân yên tâm mùa triều cường",
                "Máy bơm công suất lớn giúp {place} thoát nước nhanh sau mưa",
            ],
            "neutral": [
                "Dự báo đỉnh triều cường tháng này ở mức {num2} mét",
                "Thành phố rà soát các điểm ngập trước mùa mưa",
                "{agency} công bố danh sách điểm thường xuyên ngập",
            ],
        },
        "body": {
            "negative": [
                "Chiều {day}, sau cơn mưa lớn kéo dài gần {num2} giờ, nước dâng nhanh trên {street}, có đoạn ngập "
                "sâu hơn nửa mét.",
                "Nhiều xe máy chết máy giữa dòng nước, người dân phải dắt bộ qua đoạn đường ngập.",
                "Triều cường kết hợp mưa lớn khiến nước tràn vào nhà dân ở {place}, nhiều hộ phải kê cao đồ đạc.",
                "Theo người dân, tình trạng ngập diễn ra nhiều năm nhưng chưa được xử lý dứt điểm.",
                "Các tiểu thương ven {street} cho biết việc buôn bán gần như đình trệ mỗi khi nước lên.",
                "Rác thải trôi nổi theo dòng nước, bốc mùi hôi khó chịu sau khi nước rút.",
                "Một số học sinh phải nghỉ học vì đường đến trường bị ngập sâu.",
                "Khu vực bờ sông xuất hiện vết nứt dài khoảng {num} mét, đe dọa an toàn của các hộ dân sống gần đó.",
            ],
            "positive": [
                "Tuyến cống mới có đường kính lớn hơn giúp nước rút chỉ sau khoảng {tens} phút.",
                "Người dân {place} phấn khởi vì mùa mưa năm nay không còn cảnh lội nước về nhà.",
                "Công trình được thi công đúng tiến độ và bàn giao trước mùa triều cường.",
                "Chính quyền {place} đã tổ chức nạo vét kênh rạch, khơi thông dòng chảy.",
                "Hệ thống cảm biến mực nước gửi cảnh báo sớm về Trung tâm Điều hành đô thị thông minh.",
                "Nhờ có kè kiên cố, các hộ dân ven sông không còn lo sạt lở.",
            ],
            "neutral": [
                "{agency} khuyến cáo người dân theo dõi lịch triều cường để chủ động sắp xếp việc đi lại.",
                "Thành phố hiện có khoảng {num} điểm thường xuyên ngập khi mưa lớn trùng với triều cường.",
                "Đỉnh triều dự kiến xuất hiện vào khoảng {hour} giờ sáng các ngày cuối tuần.",
                "Các đơn vị chức năng đã bố trí lực lượng trực tại những điểm ngập sâu.",
            ],
        },
        "social": {
            "negative": [
                "{street} ngập tới đầu gối rồi mn ơi, ai đi làm về né đường này nha",
                "Mưa có chút xíu mà {place} ngập lênh láng, năm nào cũng vậy, chán thiệt sự",
                "Nước vô tới nhà luôn rồi, đồ đạc ướt hết, ai có cách gì chỉ giùm với",
                "Xe chết máy giữa đường {street}, đẩy bộ gần cây số mới tới tiệm sửa",
                "Triều cường lên cao quá, hẻm nhà mình ngập từ chiều tới giờ chưa rút",
            ],
            "positive": [
                "Cống mới làm xong đúng là khác hẳn, mưa to mà {street} rút nước nhanh ghê",
                "Năm nay {place} không ngập nữa, cảm ơn mấy anh công nhân làm cống ngày đêm",
                "Kè sông xong rồi, ba má ở quê yên tâm hẳn, không còn sợ sạt lở",
            ],
            "neutral": [
                "Có ai biết lịch triều cường tuần này không, cuối tuần định về {place}",
                "Tối nay có mưa lớn không mọi người, mai phải đi sớm qua {street}",
            ],
        },
        "comments": {
            "negative": ["Năm nào cũng hứa mà có thấy hết ngập đâu.", "Nhà tôi ở {place} cũng ngập y chang."],
            "positive": ["Làm được vậy là tốt rồi, mong các chỗ khác cũng vậy.", "Cảm ơn thành phố đã quan tâm."],
            "neutral": ["Cho hỏi lịch triều cường xem ở đâu vậy?", "Mong có thêm thông tin cụ thể."],
        },
    },
    "giao-thong": {
        "label": "Giao thông",
        "titles": {
            "negative": [
                "Kẹt xe kéo dài trên {street} giờ tan tầm",
                "Tai nạn giao thông liên hoàn trên {street}, {num2} người bị thương",
                "Đường xuống cấp, ổ gà chi chít ở {place}",
                "Đèn tín hiệu hỏng nhiều ngày, giao lộ trên {street} hỗn loạn",
                "Công trình thi công dang dở gây ùn tắc ở {place}",
            ],
            "positive": [
                "Thông xe cầu mới ở {place}, rút ngắn thời gian đi lại",
                "Mở rộng {street}, người dân đi lại thuận tiện hơn",
                "Lắp camera giám sát giao thông, tai nạn trên {street} giảm rõ rệt",
                "Tuyến xe buýt mới nối trung tâm với {place} chính thức hoạt động",
            ],
            "neutral": [
                "Phân luồng giao thông phục vụ thi công trên {street}",
                "{agency} điều chỉnh thời gian đèn tín hiệu tại một số giao lộ",
                "Thành phố lấy ý kiến người dân về quy hoạch bãi đỗ xe",
            ],
        },
        "body": {
            "negative": [
                "Vào giờ tan tầm chiều {day}, dòng xe trên {street} nhích từng chút, nhiều người mất gần một giờ để "
                "qua đoạn đường chưa đến hai cây số.",
                "Vụ tai nạn xảy ra khi một xe tải va chạm với hai xe máy đang dừng đèn đỏ.",
                "Mặt đường bong tróc, nhiều ổ gà sâu khiến người đi xe máy dễ té ngã, nhất là khi trời mưa.",
                "Người dân phản ánh đèn tín hiệu tại giao lộ đã hỏng hơn một tuần mà chưa được sửa chữa.",
                "Rào chắn công trình lấn gần hết lòng đường nhưng công trường thường xuyên vắng bóng công nhân.",
                "Lực lượng cảnh sát giao thông phải có mặt điều tiết đến tối muộn mới giải tỏa được ùn tắc.",
                "Nhiều phụ huynh cho biết con em đi học về trễ vì kẹt xe kéo dài.",
            ],
            "positive": [
                "Cây cầu mới giúp người dân {place} rút ngắn gần {tens} phút mỗi chuyến đi vào trung tâm.",
                "Sau khi mở rộng, {street} có thêm làn dành riêng cho xe máy, giao thông thông thoáng hẳn.",
                "Từ khi lắp camera, số vụ vi phạm vượt đèn đỏ giảm hơn một nửa.",
                "Tuyến xe buýt mới có giá vé rẻ, xe sạch sẽ và chạy đúng giờ.",
                "Người dân bày tỏ phấn khởi khi công trình hoàn thành sớm hơn kế hoạch.",
            ],
            "neutral": [
                "Theo phương án phân luồng, xe tải trên {num} tấn không được đi vào {street} từ 6 giờ đến 20 giờ.",
                "{agency} đề nghị người dân chú ý biển báo và hướng dẫn của lực lượng chức năng.",
                "Dữ liệu từ Trung tâm Điều hành đô thị thông minh cho thấy lưu lượng xe tăng mạnh vào cuối tuần.",
                "Thời gian lấy ý kiến kéo dài đến cuối tháng này.",
            ],
        },
        "social": {
            "negative": [
                "Kẹt xe trên {street} quá trời luôn, đứng yên 20 phút chưa nhích được",
                "Đèn xanh đèn đỏ ở ngã tư {street} hư cả tuần rồi mà ko ai sửa, nguy hiểm lắm",
                "Ổ gà to như cái nồi ở {place}, tối qua thấy 2 người té rồi đó",
                "Công trình gì mà rào cả năm không làm, kẹt xe mỗi ngày",
            ],
            "positive": [
                "Cầu mới bên {place} thông xe rồi, đi lại khỏe hẳn, cảm ơn thành phố",
                "Đi xe buýt tuyến mới thấy sạch sẽ, tài xế lịch sự, sẽ ủng hộ dài dài",
                "{street} mở rộng xong đẹp ghê, chạy xe sướng thiệt",
            ],
            "neutral": [
                "Mai {street} có phân luồng không mn, định chở con đi học đường đó",
                "Ai biết tuyến xe buýt mới chạy mấy giờ không ạ",
            ],
        },
        "comments": {
            "negative": ["Sáng nào tôi cũng kẹt ở đoạn này.", "Lái xe ẩu quá, cần xử lý nghiêm."],
            "positive": ["Cầu đẹp, đi lại nhanh hơn nhiều.", "Rất hoan nghênh!"],
            "neutral": ["Không biết bao giờ làm xong?", "Cần thêm biển báo rõ ràng hơn."],
        },
    },
    "moi-truong": {
        "label": "Môi trường",
        "titles": {
            "negative": [
                "Bãi rác tự phát bốc mùi hôi thối giữa khu dân cư {place}",
                "Kênh rạch ở {place} ô nhiễm nặng, cá chết nổi trắng mặt nước",
                "Nước thải chưa qua xử lý đổ thẳng ra sông",
                "Khói bụi từ lò đốt rác khiến người dân {place} bức xúc",
            ],
            "positive": [
                "Thanh niên {place} ra quân dọn sạch rác ven sông",
                "Trồng mới {num} cây xanh dọc {street}",
                "Mô hình phân loại rác tại nguồn lan tỏa ở {place}",
                "Con kênh từng ô nhiễm nay đã trong xanh trở lại",
            ],
            "neutral": [
                "{agency} kiểm tra các cơ sở sản xuất ven sông",
                "Thành phố triển khai thu gom rác theo giờ cố định",
                "Quan trắc chất lượng không khí tại {num2} điểm trong nội ô",
            ],
        },
        "body": {
            "negative": [
                "Đống rác lớn tồn tại nhiều tháng, ruồi muỗi bu đầy, mùi hôi lan khắp xóm nhất là khi trời nắng.",
                "Người dân ven kênh cho biết nước đổi màu đen kịt và bốc mùi từ nhiều ngày nay.",
                "Hàng trăm con cá chết nổi trên mặt nước, nghi do nước thải từ một cơ sở sản xuất gần đó.",
                "Khói từ lò đốt bay vào nhà dân, nhiều trẻ nhỏ bị ho và khó thở.",
                "Dù đã nhiều lần phản ánh lên phường, tình trạng vẫn chưa được giải quyết.",
                "Một số người dân lén đổ rác xuống kênh vào ban đêm.",
            ],
            "positive": [
                "Hơn {num} đoàn viên thanh niên đã thu gom gần {num2} tấn rác dọc bờ sông.",
                "Hàng cây mới trồng giúp {street} rợp bóng mát, người dân rất hài lòng.",
                "Các hộ gia đình được phát thùng phân loại rác và hướng dẫn tận nơi.",
                "Sau khi nạo vét và cấm xả thải, nước kênh đã trong trở lại, cá tôm xuất hiện nhiều hơn.",
                "Mô hình được nhiều phường khác đến học tập và nhân rộng.",
            ],
            "neutral": [
                "Đoàn kiểm tra sẽ lấy mẫu nước thải để phân tích tại phòng thí nghiệm.",
                "Lịch thu gom rác mới áp dụng từ đầu tháng, xe rác đi qua các tuyến hẻm từ 17 giờ đến 19 giờ.",
                "Kết quả quan trắc được công khai trên cổng thông tin của thành phố.",
            ],
        },
        "social": {
            "negative": [
                "Bãi rác đầu hẻm {street} hôi quá trời, ai có trách nhiệm xử lý giùm dân với",
                "Kênh sau nhà đen thui, mùi hôi nồng nặc, cá chết quá trời",
                "Tối nào cũng có người đốt rác, khói bay vô nhà ngộp thở luôn",
            ],
            "positive": [
                "Sáng nay đi dọn rác ven sông với đoàn phường vui ghê, sạch đẹp hẳn",
                "Đường {street} trồng cây mới xanh mát quá, mong mấy chỗ khác cũng được vậy",
            ],
            "neutral": [
                "Xe rác giờ mấy giờ đi qua khu {place} vậy mn",
                "Ai biết chỗ nào nhận pin cũ để xử lý không",
            ],
        },
        "comments": {
            "negative": ["Báo hoài mà không ai xử lý.", "Phạt thật nặng mấy chỗ xả thải!"],
            "positive": ["Các bạn trẻ giỏi quá.", "Việc làm ý nghĩa, cảm ơn các bạn."],
            "neutral": ["Lịch thu gom có áp dụng cho hẻm nhỏ không?"],
        },
    },
    "dich-vu-cong": {
        "label": "Dịch vụ công",
        "titles": {
            "negative": [
                "Hồ sơ đất đai trễ hẹn nhiều tháng, người dân {place} mỏi mòn chờ đợi",
                "Cổng dịch vụ công trực tuyến liên tục lỗi, người dân phải đến trực tiếp",
                "Xếp hàng từ sáng sớm vẫn không làm được thủ tục",
            ],
            "positive": [
                "Làm thủ tục trực tuyến, nhận kết quả chỉ sau một ngày",
                "Bộ phận một cửa ở {place} được người dân khen ngợi",
                "Tỷ lệ hồ sơ giải quyết đúng hạn đạt hơn {num} phần trăm",
            ],
            "neutral": [
                "Trung tâm Phục vụ hành chính công điều chỉnh giờ tiếp nhận hồ sơ",
                "Hướng dẫn nộp hồ sơ cấp đổi giấy phép lái xe trực tuyến",
                "Thành phố khảo sát mức độ hài lòng của người dân về dịch vụ công",
            ],
        },
        "body": {
            "negative": [
                "{person} cho biết đã nộp hồ sơ từ đầu năm nhưng đến nay vẫn chưa nhận được kết quả.",
                "Mỗi lần đến hỏi, người dân chỉ nhận được câu trả lời hồ sơ đang được xử lý.",
                "Hệ thống báo lỗi khi tải giấy tờ lên, nhiều người phải thử lại hàng chục lần.",
                "Nhiều người lớn tuổi không rành công nghệ nên càng gặp khó khăn.",
                "Người dân phải nghỉ làm nhiều buổi để đi lại giữa các cơ quan.",
            ],
            "positive": [
                "Chỉ với điện thoại thông minh, người dân có thể nộp hồ sơ và theo dõi tiến độ mọi lúc.",
                "Cán bộ một cửa hướng dẫn tận tình, thủ tục được giải quyết nhanh gọn.",
                "{person} chia sẻ lần này làm giấy tờ nhanh hơn hẳn so với trước đây.",
                "Kết quả được trả qua bưu điện tận nhà, người dân không phải đi lại.",
            ],
            "neutral": [
                "Thời gian tiếp nhận hồ sơ buổi sáng bắt đầu từ 7 giờ, buổi chiều từ 13 giờ 30.",
                "Người dân có thể gọi tổng đài của trung tâm để được hướng dẫn chi tiết.",
                "Kết quả khảo sát sẽ được dùng để cải thiện chất lượng phục vụ.",
            ],
        },
        "social": {
            "negative": [
                "Nộp hồ sơ sang tên sổ đỏ 4 tháng rồi chưa xong, đi hỏi hoài cũng nói chờ",
                "Trang dịch vụ công lỗi hoài, up giấy tờ ko được, mất cả buổi sáng",
                "Xếp hàng từ 6h sáng tới trưa vẫn chưa tới lượt, mệt mỏi thật sự",
            ],
            "positive": [
                "Làm căn cước cho con ở {place} nhanh gọn, cán bộ dễ thương lắm",
                "Nộp hồ sơ online tối qua, sáng nay có kết quả rồi, quá tiện",
            ],
            "neutral": [
                "Cho hỏi làm lại giấy khai sinh thì nộp online được không ạ",
                "Trung tâm hành chính công thứ 7 có làm việc không mn",
            ],
        },
        "comments": {
            "negative": ["Tôi cũng đang chờ y vậy.", "Cần kiểm tra trách nhiệm cán bộ."],
            "positive": ["Đúng vậy, giờ làm nhanh lắm.", "Rất tiện lợi."],
            "neutral": ["Làm sao để tra cứu hồ sơ vậy?"],
        },
    },
    "dien-nuoc": {
        "label": "Điện, nước",
        "titles": {
            "negative": [
                "Mất điện diện rộng giữa trưa nắng, người dân {place} bức xúc",
                "Nước sinh hoạt có mùi lạ, nhiều hộ dân {place} lo lắng",
                "Cúp nước liên tục, người dân phải mua nước bình để dùng",
            ],
            "positive": [
                "Đưa nước sạch về {num} hộ dân vùng ven {place}",
                "Ngành điện hoàn thành cải tạo lưới điện khu trung tâm",
                "Nhà máy nước mới nâng công suất cấp cho toàn thành phố",
            ],
            "neutral": [
                "Lịch tạm ngừng cung cấp điện để bảo trì tuần tới",
                "Công ty Cấp thoát nước Cần Thơ thông báo tạm ngưng cấp nước để sửa đường ống",
            ],
        },
        "body": {
            "negative": [
                "Điện bị cắt từ khoảng {hour} giờ sáng đến chiều tối mà không có thông báo trước.",
                "Nhiều quán ăn và tiệm tạp hóa phải đóng cửa vì tủ đông không hoạt động.",
                "Nước chảy ra từ vòi có màu vàng đục và mùi hôi, các gia đình không dám dùng để nấu ăn.",
                "Người dân phải mua nước bình hoặc đi xin nước ở khu vực lân cận.",
                "Người già và trẻ nhỏ mệt mỏi vì nắng nóng trong khi không có điện.",
            ],
            "positive": [
                "Từ nay, các hộ dân không còn phải dùng nước giếng khoan nhiễm phèn.",
                "Lưới điện mới giúp giảm hẳn tình trạng chập chờn vào giờ cao điểm.",
                "Niềm vui hiện rõ trên gương mặt bà con khi dòng nước sạch chảy về tận nhà.",
                "Công suất nhà máy tăng thêm {num} nghìn mét khối mỗi ngày.",
            ],
            "neutral": [
                "Khu vực bị ảnh hưởng gồm một phần {place} và các tuyến đường lân cận.",
                "Đơn vị cấp nước khuyến cáo người dân chủ động trữ nước trong thời gian sửa chữa.",
                "Lịch chi tiết được đăng trên trang thông tin của đơn vị.",
            ],
        },
        "social": {
            "negative": [
                "Cúp điện từ sáng tới giờ ko thông báo gì hết, nóng muốn xỉu",
                "Nước nhà mình hôm nay vàng khè, mùi tanh, có ai bị giống vậy không",
                "Mất nước 2 ngày rồi, phải đi mua từng bình, khổ quá",
            ],
            "positive": [
                "Nhà ngoại ở {place} có nước máy rồi, ngoại mừng lắm",
                "Từ hồi thay đường dây mới điện không còn chập chờn nữa, tốt ghê",
            ],
            "neutral": [
                "Chủ nhật này khu {place} có cúp điện không mn",
            ],
        },
        "comments": {
            "negative": ["Ít nhất cũng phải thông báo trước chứ.", "Nhà tôi cũng bị y vậy."],
            "positive": ["Mừng cho bà con.", "Quá tốt!"],
            "neutral": ["Xem lịch cúp điện ở đâu vậy?"],
        },
    },
    "an-ninh-mang": {
        "label": "An ninh mạng, lừa đảo",
        "titles": {
            "negative": [
                "Cảnh báo chiêu lừa đảo mạo danh cán bộ thuế gọi điện cho người dân",
                "Người phụ nữ ở {place} bị lừa mất hơn {num} triệu đồng qua mạng",
                "Trang web giả mạo cổng dịch vụ công chiếm đoạt thông tin cá nhân",
                "Tin nhắn chứa mã độc giả danh ngân hàng lan truyền trên mạng xã hội",
            ],
            "positive": [
                "Công an thành phố triệt phá đường dây lừa đảo qua mạng",
                "Người dân cảnh giác, kịp thời báo công an ngăn chặn vụ lừa đảo",
            ],
            "neutral": [
                "Khuyến cáo người dân không cài ứng dụng lạ theo hướng dẫn qua điện thoại",
                "{agency} hướng dẫn cách nhận biết cuộc gọi lừa đảo",
            ],
        },
        "body": {
            "negative": [
                "Kẻ gian tự xưng là cán bộ cơ quan nhà nước, yêu cầu nạn nhân cài đặt ứng dụng để cập nhật thông "
                "tin.",
                "Sau khi làm theo hướng dẫn, tài khoản ngân hàng của nạn nhân bị rút sạch tiền.",
                "Trang web giả mạo có giao diện gần giống trang thật, chỉ khác một vài ký tự trong tên miền.",
                "Nhiều người đã nhấp vào đường link lạ và bị chiếm quyền tài khoản mạng xã hội.",
                "Đối tượng thường nhắm vào người lớn tuổi, ít sử dụng công nghệ.",
            ],
            "positive": [
                "Cơ quan công an đã bắt giữ {num2} đối tượng và thu hồi số tiền lớn cho các nạn nhân.",
                "Nhờ nhân viên ngân hàng phát hiện giao dịch bất thường, khách hàng đã không bị mất tiền.",
                "Người dân ngày càng cảnh giác và chủ động báo tin cho cơ quan chức năng.",
            ],
            "neutral": [
                "Cơ quan nhà nước không bao giờ yêu cầu người dân chuyển tiền hay cung cấp mã OTP qua điện thoại.",
                "Khi nhận được cuộc gọi đáng ngờ, người dân nên liên hệ trực tiếp cơ quan liên quan để xác minh.",
                "Người dân có thể báo cáo trang web lừa đảo qua kênh tiếp nhận của cơ quan chức năng.",
            ],
        },
        "social": {
            "negative": [
                "Mn cẩn thận nha, má mình vừa bị gọi điện mạo danh công an đòi cài app, may mà hỏi con trước",
                "Link dịch vụ công giả mạo đang lan trên nhóm Zalo, đừng bấm vô nha mọi người",
                "Bạn mình bị lừa mất mấy chục triệu vì tin nhắn giả ngân hàng, tức ghê",
            ],
            "positive": [
                "Công an bắt được đường dây lừa đảo rồi, mong trả lại tiền cho bà con",
            ],
            "neutral": [
                "Có ai biết số tổng đài báo lừa đảo của công an thành phố không",
            ],
        },
        "comments": {
            "negative": ["Bọn lừa đảo ngày càng tinh vi.", "Người già dễ bị lừa lắm."],
            "positive": ["Công an làm tốt lắm!"],
            "neutral": ["Cảm ơn báo đã cảnh báo."],
        },
    },
    "y-te": {
        "label": "Y tế",
        "titles": {
            "negative": [
                "Bệnh viện quá tải, bệnh nhân nằm ghép ngoài hành lang",
                "Sốt xuất huyết tăng mạnh ở {place}",
                "Người bệnh chờ khám từ sáng đến chiều",
            ],
            "positive": [
                "Trạm y tế {place} được đầu tư trang thiết bị hiện đại",
                "Tiêm chủng miễn phí cho trẻ em ở {place}",
                "Bác sĩ cứu sống bệnh nhân nguy kịch nhờ kỹ thuật mới",
            ],
            "neutral": [
                "{agency} khuyến cáo phòng bệnh mùa mưa",
                "Lịch khám sức khỏe định kỳ cho người cao tuổi",
            ],
        },
        "body": {
            "negative": [
                "Khoa nhi luôn trong tình trạng quá tải, có giường phải nằm ghép hai đến ba bệnh nhi.",
                "Số ca sốt xuất huyết tuần qua tăng gần gấp đôi so với cùng kỳ.",
                "Người nhà bệnh nhân phải trải chiếu ngủ ngoài hành lang trong nhiều ngày.",
                "Thời gian chờ khám kéo dài khiến nhiều người bệnh mệt mỏi.",
            ],
            "positive": [
                "Máy móc mới giúp người dân được chẩn đoán ngay tại trạm, không phải lên tuyến trên.",
                "Hàng trăm trẻ em được tiêm chủng đầy đủ, phụ huynh rất yên tâm.",
                "Ca phẫu thuật thành công, bệnh nhân đã hồi phục và xuất viện.",
            ],
            "neutral": [
                "Người dân nên diệt lăng quăng, loại bỏ vật dụng chứa nước đọng quanh nhà.",
                "Người cao tuổi mang theo thẻ bảo hiểm y tế khi đi khám.",
                "Các trạm y tế phường mở cửa cả ngày thứ bảy.",
            ],
        },
        "social": {
            "negative": [
                "Dắt con đi khám từ 6h sáng mà 2h chiều mới tới lượt, bệnh viện đông quá",
                "Xóm mình có 3 đứa nhỏ bị sốt xuất huyết rồi, mn nhớ diệt muỗi nha",
            ],
            "positive": [
                "Trạm y tế phường mới sửa lại khang trang, bác sĩ khám kỹ lắm",
                "Cảm ơn các y bác sĩ đã chăm sóc ba mình tận tình",
            ],
            "neutral": [
                "Tiêm ngừa cho bé ở trạm y tế {place} có cần đặt lịch trước không mn",
            ],
        },
        "comments": {
            "negative": ["Quá tải vậy sao chữa bệnh tốt được.", "Khổ người bệnh."],
            "positive": ["Các bác sĩ vất vả quá, cảm ơn."],
            "neutral": ["Khám ở đâu thì nhanh hơn vậy?"],
        },
    },
    "du-lich": {
        "label": "Du lịch, văn hóa",
        "titles": {
            "positive": [
                "Chợ nổi Cái Răng hút khách dịp cuối tuần",
                "Lễ hội bánh dân gian Nam Bộ thu hút hàng nghìn du khách",
                "Bến Ninh Kiều về đêm lung linh sắc màu",
                "Du lịch miệt vườn Phong Điền khởi sắc",
            ],
            "negative": [
                "Du khách phàn nàn bị chặt chém khi đi chợ nổi",
                "Bến tàu du lịch xuống cấp, rác thải ngổn ngang",
            ],
            "neutral": [
                "Thành phố công bố chương trình du lịch dịp cuối năm",
                "Khảo sát nhu cầu du khách về tour đường sông",
            ],
        },
        "body": {
            "positive": [
                "Từ sáng sớm, hàng chục chiếc ghe chở đầy trái cây tấp nập trên sông, du khách thích thú chụp ảnh.",
                "Các gian hàng bánh dân gian luôn đông khách, nhiều người lần đầu được thưởng thức bánh xèo, bánh "
                "tét lá cẩm.",
                "Hệ thống đèn mới khiến bến Ninh Kiều trở thành điểm hẹn của người dân và du khách mỗi tối.",
                "Các nhà vườn ở Phong Điền đón lượng khách tăng mạnh vào mùa trái chín.",
            ],
            "negative": [
                "Một số du khách cho biết bị tính giá cao gấp ba lần khi mua trái cây trên ghe.",
                "Cầu tàu bong tróc, rác thải và chai nhựa nằm ngổn ngang quanh bến.",
                "Hướng dẫn viên tự do chèo kéo khách gây phiền hà.",
            ],
            "neutral": [
                "Chương trình gồm nhiều tour đường sông, tham quan nhà vườn và làng nghề.",
                "Kết quả khảo sát sẽ giúp các doanh nghiệp điều chỉnh sản phẩm du lịch.",
            ],
        },
        "social": {
            "positive": [
                "Sáng nay đi chợ nổi Cái Răng, ăn hủ tiếu trên ghe ngon bá cháy",
                "Bến Ninh Kiều tối nay đẹp quá, dắt tụi nhỏ đi chơi vui ghê",
                "Về Phong Điền ăn trái cây tại vườn, rẻ mà ngon, ai chưa đi thì đi liền",
            ],
            "negative": [
                "Mua trái cây trên chợ nổi bị tính giá gấp 3, du khách như mình thấy kỳ ghê",
            ],
            "neutral": [
                "Cuối tuần này có lễ hội gì ở Cần Thơ không mn",
            ],
        },
        "comments": {
            "positive": ["Cần Thơ đẹp quá!", "Nhất định sẽ quay lại."],
            "negative": ["Cần chấn chỉnh ngay."],
            "neutral": ["Tour giá bao nhiêu vậy?"],
        },
    },
    "giao-duc": {
        "label": "Giáo dục",
        "titles": {
            "positive": [
                "Trường học mới khang trang đón học sinh {place}",
                "Học sinh Cần Thơ đoạt giải cao trong kỳ thi khoa học kỹ thuật",
            ],
            "negative": [
                "Phòng học xuống cấp, học sinh {place} học trong nỗi lo",
                "Phụ huynh bức xúc vì các khoản thu đầu năm",
            ],
            "neutral": [
                "{agency} công bố kế hoạch tuyển sinh lớp 10",
                "Hướng dẫn đăng ký tuyển sinh đầu cấp trực tuyến",
            ],
        },
        "body": {
            "positive": [
                "Ngôi trường mới có {tens} phòng học, thư viện và sân chơi rộng rãi.",
                "Các em học sinh hào hứng với phòng thí nghiệm được trang bị đầy đủ.",
                "Đề tài của nhóm học sinh được ban giám khảo đánh giá cao về tính ứng dụng.",
            ],
            "negative": [
                "Tường lớp học nứt nẻ, trần nhà bong tróc, mỗi khi mưa nước dột khắp phòng.",
                "Nhiều phụ huynh cho biết các khoản thu năm nay cao hơn hẳn so với năm trước.",
                "Giáo viên phải dời lớp sang phòng khác mỗi khi trời mưa lớn.",
            ],
            "neutral": [
                "Thí sinh đăng ký nguyện vọng trực tuyến trong thời gian quy định.",
                "Phụ huynh có thể liên hệ trường để được hướng dẫn thủ tục.",
            ],
        },
        "social": {
            "positive": ["Trường mới của con đẹp quá, con háo hức đi học mỗi ngày"],
            "negative": ["Đầu năm đóng tiền gì mà nhiều quá trời khoản, phụ huynh như mình chịu hổng nổi"],
            "neutral": ["Năm nay tuyển sinh lớp 10 thi mấy môn vậy mn"],
        },
        "comments": {
            "positive": ["Chúc mừng các em!"],
            "negative": ["Cần công khai các khoản thu."],
            "neutral": ["Bao giờ có lịch thi?"],
        },
    },
}

# Sentences any article may carry, so two articles on the same subject still read differently.
GENERIC = [
    "Phóng viên ghi nhận tại {street} vào sáng {day}, nhiều người dân dừng lại theo dõi và bàn tán.",
    "Trao đổi với phóng viên, {person} cho biết gia đình đã sống ở {place} hơn {tens} năm.",
    "Lãnh đạo {agency} cho biết sẽ báo cáo thành phố trong tuần này.",
    "Ủy ban nhân dân {place} đã giao các bộ phận chuyên môn theo dõi, tổng hợp ý kiến người dân.",
    "Theo thống kê sơ bộ, khoảng {num} hộ dân trong khu vực chịu ảnh hưởng.",
    "Thông tin được Trung tâm Điều hành đô thị thông minh tiếp nhận qua ứng dụng phản ánh hiện trường.",
    "{person}, một người buôn bán nhỏ trên {street}, nói rằng việc làm ăn của gia đình phụ thuộc nhiều vào chuyện "
    "này.",
    "Đại diện {agency} cho biết đơn vị đã cử cán bộ xuống kiểm tra thực tế.",
    "Nhiều ý kiến đề nghị cần có giải pháp lâu dài thay vì xử lý tình thế.",
    "Vấn đề này từng được cử tri {place} nêu tại các buổi tiếp xúc trước kỳ họp Hội đồng nhân dân.",
    "Ghi nhận của phóng viên cho thấy khu vực {street} đông đúc vào giờ cao điểm sáng và chiều.",
    "Người dân có thể phản ánh qua tổng đài của thành phố hoặc ứng dụng trên điện thoại.",
    "Trước đó, {agency} đã có văn bản đề nghị các đơn vị liên quan phối hợp thực hiện.",
    "Kế hoạch dự kiến hoàn thành trong quý tới, với tổng kinh phí khoảng {num} tỷ đồng.",
    "{person} bày tỏ mong muốn chính quyền lắng nghe và phản hồi nhanh hơn.",
    "Một cán bộ {place} cho biết đã ghi nhận {num2} lượt phản ánh tương tự trong tháng.",
    "Khu vực này nằm gần chợ và trường học nên lượng người qua lại rất đông.",
    "Sự việc thu hút sự quan tâm của nhiều người trên mạng xã hội.",
    "Chính quyền địa phương cam kết sẽ công khai kết quả xử lý.",
    "Đến chiều cùng ngày, các lực lượng chức năng vẫn có mặt tại hiện trường.",
]

# Openers and endings that make social posts and comments read like different people.
SOCIAL_OPENERS = {
    "negative": ["", "", "Bức xúc thiệt sự, ", "Mọi người ơi, ", "Nói thiệt chứ ", "Lại nữa rồi, ",
                 "Báo động nè mn, ", "Chịu hết nổi, "],
    "positive": ["", "", "Tin vui nè, ", "Khen một cái, ", "Phải nói là ", "Mừng ghê, "],
    "neutral": ["", "", "Cho mình hỏi chút, ", "Mọi người ơi, ", "Hỏi xíu, "],
}
SOCIAL_ENDINGS = {
    "negative": ["", "", ".", "!!", " 😡", " 😢", ", mong cơ quan chức năng sớm xử lý",
                 ", ai có trách nhiệm vô coi giùm",
                 " haizz", ", năm nào cũng vậy"],
    "positive": ["", "", ".", " 👍", " ❤️", ", cảm ơn mọi người", ", vậy mới đúng chứ", " 🙏"],
    "neutral": ["", "", "?", " ạ", ", cảm ơn mn", " với ạ"],
}

# Share of each polarity when the generator picks one (listening data skews negative).
POLARITY_WEIGHTS = {"negative": 0.45, "neutral": 0.25, "positive": 0.30}

OUTLETS = {
    # key: (display name, section slug used in URLs, how the demo publishes it)
    "baocantho": ("Báo Cần Thơ (demo)", "tin-tuc", "rss"),
    "dothi": ("Tin Đô Thị Cần Thơ (demo)", "bai-viet", "sitemap"),
    "congthongtin": ("Cổng thông tin thành phố (demo)", "thong-bao", "listing"),
}
TELEGRAM_CHANNELS = {"tinnongcantho": "Tin nóng Cần Thơ", "canhbaolua": "Cảnh báo lừa đảo miền Tây"}
FORUM_SECTIONS = {"can-tho-24h.2": "Cần Thơ 24h", "goc-phan-anh.3": "Góc phản ánh"}
YOUTUBE_CHANNEL = ("UCdemoCanThoTV000000000", "Cần Thơ TV (demo)")
FACEBOOK_PAGE = ("100000000000777", "Trang tin phường Ninh Kiều (demo)")

# Rude reader comments, so the demo's toxicity chart has something to show: about one
# social comment in twelve (picked by a hash of its id, so the rest of the site is
# unchanged) is replaced by one of these. Offensive: swearing and insults at no group; hate: contempt
# for a group of people.
RUDE_COMMENTS = {
    "offensive": [
        "đm cái đường này mưa chút xíu là ngập, mấy ông quản lý ăn hại vl",
        "tổ sư cái công trình, rào cả năm trời mà không xong",
        "ngu như bò mà cũng đòi ngồi ghế cán bộ",
        "đcm kẹt xe từ sáng tới giờ, bực cả mình",
        "thằng nào xả rác ra kênh thì đúng là mất dạy",
        "cái app dịch vụ công như cc, bấm hoài không vô",
    ],
    "hate": [
        "bọn dân tỉnh lẻ lên đây toàn làm bẩn thành phố, cút hết về quê đi",
        "lũ người nghèo đó chỉ biết ăn bám, đuổi hết cho sạch khu này",
        "bọn đàn bà lái xe thì chỉ có gây tai nạn, cấm hết đi",
    ],
}
