"""Interface texts of the finder pages (vi, en), merged into :data:`web.i18n.TEXTS`.

A key here overrides one of the same name in :mod:`web.i18n`.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # the school the home is zoned for (catchment), listed even when it is not among the nearest
    "finder_zoned": ("Trường đúng tuyến", "Zoned school"),
    "finder_zoned_title": ("Trường đúng tuyến của nhà bạn (theo địa bàn tuyển sinh)",
                           "The school your home is zoned for (catchment)"),
    "finder_zoned_far": ("không nằm trong các trường gần nhất ở trên",
                         "not among the nearest schools listed"),
    # more results, the public/private filter
    "finder_more": ("Xem thêm", "Show more"),
    "finder_filter_none": ("Không có trường nào của loại hình này trong phạm vi tìm kiếm.",
                           "No school of this kind within the search."),
    # loading, errors, the isochrone legend
    "finder_loading_schools": ("Đang tìm trường…", "Finding schools…"),
    "finder_loading_reach": ("Đang tính vùng đi được…", "Computing the areas you can reach…"),
    "finder_failed": ("Không tải được kết quả. Hãy thử lại sau ít phút.",
                      "The results could not be loaded. Please try again in a few minutes."),
    "finder_legend": ("Vùng đi được từ nhà bằng", "Areas reachable from home by"),
    "finder_legend_within": ("trong", "within"),
    # the address search on a phone: the chosen place, the other suggestions, unknown addresses
    "finder_chosen": ("Vị trí đã chọn", "Chosen place"),
    "finder_other_places": ("Chọn địa chỉ khác", "Pick another address"),
    "finder_not_found": (
        "Không tìm thấy địa chỉ này. Hãy thử: chỉ nhập tên đường, không cần số nhà (vd. "
        "“Nguyễn Huệ”); thêm tên phường sau dấu phẩy (vd. “Nguyễn Huệ, Sài Gòn”); gõ không "
        "dấu cũng được; hoặc bấm vào bản đồ để đặt vị trí nhà.",
        "This address was not found. Try: the street name alone, without the house number "
        "(e.g. “Nguyen Hue”); add the ward after a comma (e.g. “Nguyen Hue, Sai Gon”); "
        "Vietnamese accents are optional; or click on the map to place your home."),
    # the grade-10 score and the chance band, in plain words
    "finder_score": ("Điểm dự kiến (lớp 10, tổng điểm xét tuyển, tối đa 30)",
                     "Expected total score (grade 10, at most 30)"),
    "finder_score_invalid": ("Điểm phải là một số từ 0 đến 30: tổng điểm xét tuyển lớp 10 tối đa "
                             "là 30.",
                             "The score must be a number from 0 to 30: the grade-10 total is at "
                             "most 30."),
    "finder_band_title": ("Khả năng trúng tuyển được tính thế nào?", "How is the chance worked out?"),
    "finder_band_help": (
        "Với mỗi trường, chúng tôi dự báo điểm chuẩn nguyện vọng 1 (NV1) năm tới bằng một khoảng "
        "từ cận dưới đến cận trên, dựa trên điểm chuẩn NV1 các năm trước (ghi ở đầu mỗi dòng). "
        "Mức tin cậy của khoảng là {level}: điểm chuẩn thật được kỳ vọng nằm trong khoảng này "
        "khoảng {level} số năm; tỉ lệ thực tế khi kiểm tra trên các năm trước được ghi kèm. "
        "Điểm của bạn từ cận trên trở lên: “Khả năng cao”; trong khoảng: “Có thể”; dưới cận "
        "dưới: “Khả năng thấp”. Đây là ước lượng, không phải cam kết trúng tuyển.",
        "For each school we forecast next year's first-choice (NV1) cut-off as a range, from a "
        "lower to an upper bound, from the NV1 cut-offs of past years (listed first on each "
        "line). The range's confidence level is {level}: the real cut-off is expected to fall "
        "in it in about {level} of years; the share it actually held when tested on past "
        "years is given next to it. A score at or above the upper bound: “Likely”; within "
        "the range: “Possible”; below the lower bound: “Unlikely”. This is an estimate, never "
        "a promise of admission."),
    "finder_past_cutoffs": ("Điểm chuẩn NV1 các năm trước", "NV1 cut-offs of past years"),
    "finder_searched": ("Tìm theo", "Searched with"),
    "finder_no_score": ("chưa nhập", "not given"),
}
