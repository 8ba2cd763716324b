"""Interface texts of the streaming page (phân luồng sau lớp 9), Vietnamese first, English.

Merged into :data:`web.i18n.TEXTS`; every key starts with ``streaming_``. Texts with
``{name}`` are ``str.format`` templates filled in by the page.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "streaming_title": ("Phân luồng sau lớp 9", "Streaming after grade 9"),
    "streaming_link": ("Phân luồng sau lớp 9: chỗ học lớp 10 công lập trong tầm đi lại",
                       "Streaming after grade 9: public grade-10 places within reach"),
    "streaming_intro": (
        "Với mỗi phường: số học sinh lớp 9 sẽ thi vào lớp 10 trong năm tuyển sinh, số chỗ lớp 10 "
        "công lập các em đi tới được trong thời gian đã chọn (chỗ của một trường được chia cho "
        "các phường tới được trường đó, nên tổng không vượt quá số chỗ của thành phố), và số "
        "còn lại cần trường tư thục, trung tâm GDNN-GDTX hoặc trường nghề.",
        "For each ward: the grade-9 pupils who seek a grade-10 place in the admission year, the "
        "public grade-10 places they can reach within the chosen time (a school's places are "
        "shared among the wards that reach it, so the total never exceeds the city's places), "
        "and the rest, who need a private school, a vocational and continuing-education centre "
        "(GDNN-GDTX) or a trade school."),
    "streaming_year": ("Năm tuyển sinh", "Admission year"),
    "streaming_threshold": ("Thời gian đi tối đa (phút)", "Longest travel time (minutes)"),
    "streaming_show": ("Tính", "Compute"),
    "streaming_counted": ("Học sinh lớp 9 năm học {school_year}: số đã thống kê.",
                          "Grade-9 pupils of the school year {school_year}: as counted."),
    "streaming_projected": ("Học sinh lớp 9 năm học {school_year}: dự báo từ dân số theo độ tuổi "
                            "và tỉ lệ học sinh lên lớp mỗi năm.",
                            "Grade-9 pupils of the school year {school_year}: projected from the "
                            "population by age and the share of pupils moving up each year."),
    "streaming_mode": ("Thời gian đi bằng xe máy trên mạng đường hiện dùng, từ một điểm đại "
                       "diện của mỗi phường.",
                       "Travel times by motorbike on the road network in use, from one "
                       "representative point of each ward."),
    "streaming_city": ("Toàn thành phố", "Whole city"),
    "streaming_ward": ("Phường/xã", "Ward"),
    "streaming_leavers": ("Học sinh lớp 9", "Grade-9 leavers"),
    "streaming_public_reach": ("Chỗ công lập trong tầm", "Public places in reach"),
    "streaming_public_seats": ("Chỗ công lập được chia", "Public places shared"),
    "streaming_remainder": ("Còn lại", "Remainder"),
    "streaming_other_places": ("Chỗ tư thục/GDNN-GDTX", "Private/GDNN-GDTX places"),
    "streaming_without_place": ("Chưa có chỗ trong tầm", "No place in reach"),
    "streaming_nearest": ("Trường công lập gần nhất (phút)", "Nearest public school (min)"),
    "streaming_tip_leavers": ("Học sinh lớp 9 của năm học trước năm tuyển sinh, theo phường của "
                              "trường các em đang học.",
                              "Grade-9 pupils of the school year before the admission year, by "
                              "the ward of the school they attend."),
    "streaming_tip_public_reach": ("Tổng chỉ tiêu lớp 10 của các trường THPT công lập tới được "
                                   "trong thời gian đã chọn, trước khi chia với phường khác.",
                                   "All grade-10 places of the public upper-secondary schools "
                                   "reachable within the chosen time, before sharing with other "
                                   "wards."),
    "streaming_tip_public_seats": ("Phần chỗ công lập dành cho phường sau khi chia: càng nhiều "
                                   "học sinh có chỗ càng tốt, mỗi phường tới được trường nhận ít "
                                   "nhất cùng một tỉ lệ học sinh của mình, phần còn lại ưu tiên "
                                   "phường gần hơn.",
                                   "The ward's share of public places: as many pupils seated as "
                                   "possible, every ward that reaches a school at least the same "
                                   "share of its pupils, the rest to nearer wards first."),
    "streaming_tip_remainder": ("Học sinh lớp 9 trừ chỗ công lập được chia.",
                                "Grade-9 leavers minus the public places shared to the ward."),
    "streaming_tip_other_places": ("Chỗ lớp 10 ở trường tư thục và trung tâm GDNN-GDTX trong tầm, "
                                   "chia cho số còn lại theo cùng cách.",
                                   "Grade-10 places of private schools and GDNN-GDTX centres in "
                                   "reach, shared among the remainders the same way."),
    "streaming_tip_without_place": ("Số còn lại không có chỗ nào trong thời gian đã chọn.",
                                    "The remainder with no place of any kind within the chosen "
                                    "time."),
    "streaming_totals": ("{public} chỗ công lập và {other} chỗ tư thục/GDNN-GDTX trong "
                         "toàn thành phố.",
                         "{public} public and {other} private/GDNN-GDTX grade-10 places "
                         "in the whole city."),
    "streaming_map": ("Bản đồ số học sinh còn lại theo phường", "Map of the remainder by ward"),
    "streaming_scenario": ("Mạng đường", "Road network"),
    "streaming_network_in_use": ("Mạng đường hiện dùng", "Network in use"),
    "streaming_on_scenario": ("Theo kịch bản giao thông «{name}»: thời gian đi trên mạng đường có "
                              "các công trình của kịch bản (chỉ để quy hoạch).",
                              "On the transport scenario “{name}”: travel times on the road "
                              "network with the scenario's works (a planning input only)."),
    "streaming_change": ("Thay đổi chỗ công lập", "Change in public places"),
    "streaming_tip_change": ("Chỗ công lập được chia theo kịch bản trừ theo mạng đường hiện dùng.",
                             "Public places shared on the scenario minus on the network in use."),
    "streaming_back": ("Về trang quy hoạch", "Back to planning"),
}
