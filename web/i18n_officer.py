"""Interface texts of the officer pages (vi, en), merged into :data:`web.i18n.TEXTS`.

A key here overrides one of the same name in :mod:`web.i18n`. :data:`ERRORS` gives the
messages the admissions service raises in English only, in both languages, so that a
refusal is shown in the page's language (:func:`web.officer.error_text`).
"""

from __future__ import annotations

import re

TEXTS: dict[str, tuple[str, str]] = {
    # statuses of a round
    "status_draft": ("Bản nháp (chưa xét tuyển)", "Draft (not run yet)"),
    "status_run": ("Đã xét tuyển, chưa công bố", "Run, not published"),
    "status_published": ("Đã công bố", "Published"),
    # mechanisms: a name and one sentence each
    "mech_da": ("Chấp nhận trì hoãn (DA)", "Deferred acceptance (DA)"),
    "mech_da_help": ("Mỗi học sinh vào trường có nguyện vọng cao nhất mà điểm hoặc diện ưu tiên"
                     " của em đủ giữ chỗ; ghi đúng nguyện vọng thật không bao giờ làm em thiệt.",
                     "Each applicant gets the highest choice where their score or priority holds"
                     " a seat; listing one's true preferences never hurts."),
    "mech_hcmc": ("Xét theo vòng nguyện vọng (cách làm hiện nay)",
                  "Rounds by choice (today's HCMC practice)"),
    "mech_hcmc_help": ("Trường nhận học sinh đặt NV1 trước, chỗ còn lại mới xét NV2, rồi NV3;"
                       " trượt NV1 ở trường đông có thể làm mất chỗ ở NV2.",
                       "Schools first fill their seats with NV1 applicants, then NV2 with the"
                       " seats left, then NV3; failing a popular NV1 can cost a seat at NV2."),
    "mech_mincost": ("Tổng quãng đường nhỏ nhất", "Least total travel"),
    "mech_mincost_help": ("Xếp học sinh vào các trường em đã chọn sao cho tổng quãng đường từ nhà"
                          " đến trường của mọi em là nhỏ nhất; cần tọa độ nhà.",
                          "Places applicants among their choices so that the total home-to-school"
                          " distance of all of them is smallest; needs home coordinates."),
    "mincost_unavailable": ("Không chạy được “Tổng quãng đường nhỏ nhất”: tệp hồ sơ của đợt này"
                            " không có tọa độ nhà (cột lon, lat).",
                            "“Least total travel” cannot run: this round's applicants file has"
                            " no home coordinates (lon, lat columns)."),
    "mechanisms_help": ("Các cơ chế", "The mechanisms"),
    # metrics of a stored run
    "m_applicants": ("Số hồ sơ", "Applicants"),
    "m_placed": ("Trúng tuyển", "Placed"),
    "m_unplaced": ("Chưa trúng tuyển", "Not placed"),
    "m_choice": ("Trúng tuyển NV{rank}", "Placed at choice {rank}"),
    "m_off_list": ("Cán bộ xếp vào trường ngoài nguyện vọng", "Placed by an officer off their list"),
    "m_distance_mean": ("Quãng đường trung bình đến trường", "Mean distance to school"),
    "m_distance_median": ("Một nửa số em đi không quá", "Half of them travel at most"),
    "m_distance_p90": ("90 % số em đi không quá", "90 % of them travel at most"),
    "m_within": ("Học ở trường cách nhà không quá {km} km", "At a school within {km} km of home"),
    "m_time_mean": ("Thời gian đi trung bình", "Mean travel time"),
    "m_time_median": ("Một nửa số em đi không quá (thời gian)", "Half of them travel at most (time)"),
    "m_envy": ("Số em bị một trường mình xếp trên bỏ qua dù đứng trên một em trường ấy nhận",
               "Applicants passed over by a school they preferred that took someone ranked below"
               " them"),
    "m_offroad": ("Nhà xa mọi tuyến đường (tính theo đường chim bay)",
                  "Homes far from every road (straight-line distance)"),
    "m_placed_share": ("{count} ({share})", "{count} ({share})"),
    "metrics_of_run": ("Kết quả đã lưu của lần xét tuyển gần nhất ({mechanism}).",
                       "Stored result of the last run ({mechanism})."),
    "metrics_distance_note": ("Quãng đường và thời gian tính trên các em trúng tuyển có tọa độ nhà.",
                              "Distances and times are over the placed applicants with a home."),
    # per-school table
    "cutoff_score": ("Điểm chuẩn (điểm thấp nhất trúng tuyển)", "Cut-off (lowest score admitted)"),
    "cutoff_tier": ("Diện ưu tiên thấp nhất trúng tuyển", "Lowest priority tier admitted"),
    "fill": ("Đã lấp đầy", "Filled"),
    "mean_distance": ("Quãng đường TB", "Mean distance"),
    "mean_time": ("Thời gian TB", "Mean time"),
    "worst_choice": ("NV thấp nhất trúng tuyển", "Lowest choice admitted"),
    "tier_1": ("Diện 1 (thường trú đúng tuyến)", "Tier 1 (resident, in catchment)"),
    "tier_2": ("Diện 2 (tạm trú)", "Tier 2 (temporary resident)"),
    "tier_3": ("Diện 3 (khác)", "Tier 3 (other)"),
    # applicants table
    "col_applicant_id": ("Mã hồ sơ", "Applicant id"),
    "col_ward_code": ("Phường", "Ward"),
    "col_residence_type": ("Cư trú", "Residence"),
    "col_tier": ("Diện ưu tiên", "Priority tier"),
    "col_score": ("Điểm", "Score"),
    "col_bonus": ("Điểm cộng", "Bonus"),
    "col_choices": ("Nguyện vọng", "Choices"),
    "col_school_code": ("Trường trúng tuyển", "School placed at"),
    "col_choice_rank": ("Trúng NV", "Choice placed at"),
    "col_distance_m": ("Quãng đường", "Distance"),
    "col_time_s": ("Thời gian", "Time"),
    "col_reason": ("Lý do", "Reason"),
    "res_thuong_tru": ("Thường trú", "Permanent"),
    "res_tam_tru": ("Tạm trú", "Temporary"),
    "res_khac": ("Khác", "Other"),
    "off_list": ("ngoài nguyện vọng", "off the list"),
    "page_of": ("Trang {page}/{pages} · {count} hồ sơ", "Page {page} of {pages} · {count} applicants"),
    "previous_page": ("Trang trước", "Previous page"),
    "next_page": ("Trang sau", "Next page"),
    # confirmations
    "discard_overrides": ("Các điều chỉnh sẽ bị xóa (cần làm lại sau khi xét tuyển lại):",
                          "The overrides that would be lost (to be made again after a new run):"),
    "publish_confirm": ("Tôi xác nhận công bố: {placements} kết quả xếp trường và {overrides}"
                        " quyết định điều chỉnh của cán bộ được giữ cố định; sau đó không nhập"
                        " lại, xét tuyển lại hay điều chỉnh được nữa",
                        "I confirm publication: {placements} allocations and {overrides} officer"
                        " overrides are frozen; no more imports, runs or overrides after that"),
    "publish_unconfirmed": ("Chưa công bố: hãy đánh dấu ô xác nhận trước khi công bố.",
                            "Not published: tick the confirmation box to publish."),
    "withdrawn": ("không xếp trường", "no school"),
    # uploads
    "row": ("Dòng trong bảng tính", "Spreadsheet line"),
    "row_help": ("Dòng tiêu đề là dòng 1.", "The header is line 1."),
    "template_csv": ("Tải tệp mẫu (CSV)", "Download a template (CSV)"),
    "template_help": ("Tệp mẫu có đúng các cột cần có và hai dòng ví dụ; hãy thay các dòng ví dụ"
                      " bằng dữ liệu thật.",
                      "The template has the required columns and two example rows; replace the"
                      " example rows with real data."),
    "upload_capacities": ("Chỉ tiêu của đợt (CSV)", "Places of this round (CSV)"),
    "key_applicant": ("Mã hồ sơ", "Applicant id"),
    "key_school": ("Mã trường", "School code"),
    "bad_round_id": ("Mã đợt chỉ gồm chữ, số và các dấu '-', '_', '.'",
                     "A round id has only letters, digits, '-', '_' and '.'"),
    "reason_required": ("Cần ghi lý do điều chỉnh.", "A written reason is required."),
    "m_distance_total": ("Tổng quãng đường của mọi em", "Total distance of all of them"),
    "figure": ("Chỉ số", "Figure"),
}

#: Messages of the admissions service raised in English only: a pattern of the English
#: message and its Vietnamese ``str.format`` template filled with the pattern's groups (the
#: English page shows the message as raised).
ERRORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"this form was already sent for another action"),
     "biểu mẫu này đã được gửi cho một thao tác khác; hãy tải lại trang"),
    (re.compile(r"round (?P<r>\S+) is published and cannot be run again"),
     "đợt {r} đã công bố, không xét tuyển lại được"),
    (re.compile(r"round (?P<r>\S+) is published: its (?P<what>\w+) are frozen"),
     "đợt {r} đã công bố: không thay đổi dữ liệu được nữa"),
    (re.compile(r"round (?P<r>\S+) is (?P<s>\w+); only a run round can be published"),
     "đợt {r} chưa xét tuyển hoặc đã công bố: chỉ công bố được đợt đã xét tuyển"),
    (re.compile(r"round (?P<r>\S+) is (?P<s>\w+); overrides need a run, unpublished round"),
     "đợt {r} chưa xét tuyển hoặc đã công bố: chỉ điều chỉnh được đợt đã xét tuyển, chưa công bố"),
    (re.compile(r"round (?P<r>\S+) was published meanwhile"),
     "đợt {r} vừa được công bố trong lúc tính: không lưu gì"),
    (re.compile(r"round (?P<r>\S+) has no applicants: import them first"),
     "đợt {r} chưa có hồ sơ: hãy nhập tệp hồ sơ trước"),
    (re.compile(r"the inputs of round (?P<r>\S+) changed since it was run; run it again"),
     "dữ liệu của đợt {r} đã thay đổi từ lần xét tuyển trước: hãy xét tuyển lại"),
    (re.compile(r"round (?P<r>'[^']*') already exists"), "mã đợt {r} đã có"),
    (re.compile(r"(?P<u>'[^']*') is not an officer account"), "{u} không phải tài khoản cán bộ tuyển sinh"),
    (re.compile(r"mincost needs "),
     "không chạy được “Tổng quãng đường nhỏ nhất”: cần tọa độ nhà (lon, lat) của học sinh"),
    (re.compile(r"no mechanism applies"), "không cơ chế nào chạy được trên hồ sơ này"),
]
