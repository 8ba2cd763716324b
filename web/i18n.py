"""Vietnamese-first interface texts with English, and diacritic-insensitive name matching.

The matching is :mod:`gis_service.text_search`'s, re-exported here for the web modules.
"""

from __future__ import annotations

from fastapi import Request

from gis_service.levels import ALL_LEVELS
from gis_service.text_search import fold, matches
from web.i18n_finder import TEXTS as FINDER_TEXTS
from web.i18n_officer import TEXTS as OFFICER_TEXTS
from web.i18n_planner import TEXTS as PLANNER_TEXTS
from web.i18n_public import TEXTS as PUBLIC_TEXTS
from web.i18n_scenarios import TEXTS as SCENARIO_TEXTS
from web.i18n_streaming import TEXTS as STREAMING_TEXTS

__all__ = ["LANGUAGES", "LANG_COOKIE", "TEXTS", "fold", "lang_of", "matches", "translate"]

LANGUAGES = ("vi", "en")
LANG_COOKIE = "lang"

TEXTS: dict[str, tuple[str, str]] = {
    "site_title": ("Bản đồ trường học TP.HCM", "Ho Chi Minh City school map"),
    "site_tagline": ("Hệ thống GIS giáo dục TP.HCM", "Education GIS of Ho Chi Minh City"),
    "nav_map": ("Bản đồ", "Map"),
    "nav_list": ("Danh sách trường", "School list"),
    "nav_finder": ("Tìm trường gần nhà", "Find schools near home"),
    "nav_officer": ("Tuyển sinh", "Admissions"),
    "nav_planner": ("Quy hoạch", "Planning"),
    "nav_login": ("Đăng nhập", "Sign in"),
    "nav_logout": ("Đăng xuất", "Sign out"),
    "nav_data": ("Dữ liệu mở", "Open data"),
    "other_lang": ("English", "Tiếng Việt"),
    "filter_level": ("Cấp học", "Level"),
    "filter_ownership": ("Loại hình", "Ownership"),
    "filter_ward": ("Phường/xã", "Ward or commune"),
    "filter_district": ("Quận/huyện cũ (trước 1/7/2025)", "Former district (before 1 July 2025)"),
    "filter_name": ("Tên trường (có hoặc không dấu)", "School name (with or without diacritics)"),
    "filter_apply": ("Lọc", "Filter"),
    "all": ("Tất cả", "All"),
    **{level.name: (level.short_vi, level.label_en) for level in ALL_LEVELS},
    "public": ("Công lập", "Public"),
    "private": ("Tư thục", "Private"),
    "schools_found": ("trường", "schools"),
    "list_equivalent": ("Danh sách này tương đương bản đồ.", "This list holds the same schools as the map."),
    "see_list": ("Xem dạng danh sách", "See as a list"),
    "see_map": ("Xem trên bản đồ", "See on the map"),
    "col_name": ("Tên trường", "School"),
    "col_address": ("Địa chỉ", "Address"),
    "col_capacity": ("Chỉ tiêu lớp đầu cấp", "Entry-grade capacity"),
    "address": ("Địa chỉ", "Address"),
    "level": ("Cấp học", "Level"),
    "ownership": ("Loại hình", "Ownership"),
    "district": ("Quận/huyện cũ (trước 1/7/2025)", "Former district (before 1 July 2025)"),
    "ward": ("Phường/xã", "Ward"),
    "capacity": ("Chỉ tiêu", "Capacity"),
    "capacity_grade1": ("Chỉ tiêu lớp 1", "Grade-1 places"),
    "capacity_grade6": ("Chỉ tiêu lớp 6", "Grade-6 places"),
    "capacity_grade10": ("Chỉ tiêu lớp 10", "Grade-10 places"),
    "cutoffs": ("Điểm chuẩn lớp 10", "Grade-10 cut-off scores"),
    "cutoffs_none": ("Chưa có điểm chuẩn lớp 10 cho trường này.",
                     "No grade-10 cut-off history for this school."),
    "programmes": ("Chương trình học", "Programmes"),
    "catchment": ("Địa bàn tuyển sinh", "Catchment"),
    "catchment_wards": ("Các phường/xã thuộc địa bàn", "Wards and communes in the catchment"),
    "catchment_none": ("Chưa có địa bàn tuyển sinh cho trường này.",
                       "No catchment is recorded for this school."),
    "catchment_source_imported": ("theo danh sách chính thức", "the official list"),
    "catchment_source_derived": ("tính từ phường/xã và đường đi; danh sách chính thức do cơ quan"
                                 " quản lý giáo dục công bố",
                                 "derived from wards and roads; the education authority publishes"
                                 " the official list"),
    "finder_catchment": ("Nhà bạn thuộc địa bàn tuyển sinh của", "Your home is in the catchment of"),
    "finder_catchment_none": ("Không tìm thấy địa bàn tuyển sinh cho vị trí này.",
                              "No catchment found for this point."),
    "finder_route": ("Đường đi", "Route"),
    "finder_show_route": ("Xem đường đi", "Show the route"),
    "finder_score": ("Điểm dự kiến (lớp 10, tổng điểm xét tuyển)", "Expected total score (grade 10)"),
    "finder_forecast": ("Dự báo", "Forecast"),
    "band_backtest": ("kiểm định ngược: khoảng này chứa", "backtest: such bands held"),
    "band_not_backtested": ("chưa kiểm định ngược được", "not backtested yet"),
    "address_checks": ("Kiểm tra địa chỉ", "Address checks"),
    "address_checks_note": ("Hồ sơ có nhà nằm ngoài phường khai báo quá {tolerance} m, hoặc nhiều hồ sơ "
                            "cùng một vị trí nhà (trên {limit}). Chỉ để cán bộ kiểm tra; kết quả xét "
                            "tuyển không đổi.",
                            "Applicants whose home lies more than {tolerance} m outside their declared "
                            "ward, or more than {limit} applicants at one home. For officers to check; "
                            "the allocation is not changed."),
    "address_flags": ("hồ sơ cần kiểm tra", "flags"),
    "address_flags_none": ("Không có hồ sơ nào cần kiểm tra địa chỉ.", "No address needs checking."),
    "address_check": ("Loại kiểm tra", "Check"),
    "check_ward_mismatch": ("Nhà ngoài phường khai báo", "Home outside the declared ward"),
    "check_shared_home": ("Nhiều hồ sơ cùng nhà", "Many applicants at one home"),
    "compare_title": ("So sánh trường", "Compare schools"),
    "compare_schools_note": ("Các trường được so sánh theo dữ kiện, không xếp hạng chung; tối đa 4 trường.",
                             "Schools side by side on facts, with no overall rating; up to 4 schools."),
    "compare_fact": ("Thông tin", "Fact"),
    "compare_trip": ("Từ nhà bạn theo đường đi", "From your home by road"),
    "compare_unreachable": ("Không đến được bằng phương tiện này", "Not reachable by this mode"),
    "compare_no_roads": ("Chưa có dữ liệu đường", "No road data yet"),
    "compare_cutoffs": ("Điểm chuẩn NV1 lớp 10", "Grade-10 NV1 cut-offs"),
    "compare_chance": ("Khả năng với điểm", "Chance with score"),
    "compare_pick": ("So sánh", "Compare"),
    "compare_link": ("So sánh các trường đã chọn", "Compare the ticked schools"),
    "finder_share": ("Liên kết chia sẻ / in", "Share / print link"),
    "finder_print": ("In", "Print"),
    "year": ("Năm", "Year"),
    "round": ("Nguyện vọng", "Choice"),
    "score": ("Điểm", "Score"),
    "finder_title": ("Tìm trường gần nhà", "Find schools near your home"),
    "finder_address": ("Địa chỉ (tên đường hoặc phường)", "Address (street or ward name)"),
    "finder_search": ("Tìm", "Search"),
    "finder_pin": ("Kiểm tra vị trí nhà trên bản đồ; kéo ghim nếu chưa đúng.",
                   "Check your home on the map; drag the pin if it is not right."),
    "finder_mode": ("Phương tiện", "Travel mode"),
    "motorbike": ("Xe máy", "Motorbike"),
    "walk": ("Đi bộ", "Walking"),
    "bicycle": ("Xe đạp", "Bicycle"),
    "finder_results": ("Trường gần nhất theo đường đi", "Nearest schools by road"),
    "finder_crow": ("Khoảng cách đường chim bay (chưa có dữ liệu đường)",
                    "Straight-line distance (no road data)"),
    "distance": ("Quãng đường", "Distance"),
    "time": ("Thời gian", "Time"),
    "minutes": ("phút", "min"),
    "finder_disclaimer": ("Kết quả chỉ để tham khảo; trường được phân tuyến do Sở GD-ĐT quyết định.",
                          "For guidance only; the school assigned is decided by the Department "
                          "of Education."),
    "login_title": ("Đăng nhập cán bộ", "Staff sign-in"),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "login_failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
    "login_throttled": ("Đăng nhập sai quá nhiều lần; hãy thử lại sau {seconds} giây.",
                        "Too many failed sign-ins; try again in {seconds} s."),
    "officer_title": ("Tuyển sinh — không gian làm việc cán bộ", "Admissions — officers' workspace"),
    "planner_title": ("Quy hoạch — cung và cầu chỗ học", "Planning — school places and demand"),
    "rounds": ("Các đợt tuyển sinh", "Admission rounds"),
    "applicants": ("Hồ sơ", "Applicants"),
    "status": ("Trạng thái", "Status"),
    "grade": ("Lớp", "Grade"),
    "mechanism": ("Cơ chế", "Mechanism"),
    "max_offroad_m": ("Khoảng cách tối đa tới đường (m)", "Farthest from a road (m)"),
    "max_offroad_help": ("Nhà xa mọi tuyến đường hơn mức này được tính theo đường chim bay và "
                         "được đánh dấu để kiểm tra.",
                         "Homes farther than this from every road get straight-line distances "
                         "and are flagged for checking."),
    "export_csv": ("Xuất CSV", "Export CSV"),
    "upload": ("Nhập tệp hồ sơ (CSV)", "Import an applicants file (CSV)"),
    "upload_file": ("Tệp CSV", "CSV file"),
    "upload_button": ("Nhập hồ sơ", "Import"),
    "upload_capacities": ("Chỉ tiêu của đợt (CSV school_code,capacity)",
                          "Places of this round (CSV school_code,capacity)"),
    "upload_capacities_button": ("Nhập chỉ tiêu", "Import places"),
    "capacity_rows": ("trường có chỉ tiêu mới", "schools with new places"),
    "upload_ok": ("Đã nhập", "Imported"),
    "discard_run": ("Đợt này đã chạy phân bổ: tôi đồng ý xóa kết quả đã lưu ({placements} kết quả"
                    " xếp trường, {overrides} quyết định điều chỉnh của cán bộ) khi nhập tệp này",
                    "This round has been run: discard its stored result ({placements} allocations,"
                    " {overrides} officer overrides) with this import"),
    "upload_refused": ("Tệp bị từ chối, không lưu hồ sơ nào:", "File refused, nothing stored:"),
    "problems": ("lỗi", "problems"),
    "shown": ("hiển thị", "showing"),
    "file": ("Tệp", "File"),
    "row": ("Dòng", "Row"),
    "field": ("Cột", "Field"),
    "reason": ("Lý do", "Reason"),
    "placed": ("Trúng tuyển", "Placed"),
    "new_round": ("Tạo đợt tuyển sinh", "New admission round"),
    "round_id": ("Mã đợt", "Round id"),
    "seed": ("Hạt giống bốc thăm", "Lottery seed"),
    "create": ("Tạo", "Create"),
    "run": ("Xét tuyển", "Run the allocation"),
    "run_button": ("Chạy xét tuyển", "Run"),
    "metrics": ("Chỉ số kết quả", "Result metrics"),
    "per_school": ("Kết quả theo trường", "Results per school"),
    "worst_choice": ("NV thấp nhất trúng tuyển", "Lowest choice admitted"),
    "mean_distance": ("Quãng đường TB (m)", "Mean distance (m)"),
    "compare": ("So sánh cơ chế", "Compare mechanisms"),
    "compare_note": ("Mọi cơ chế trên cùng hồ sơ và hạt giống; không lưu gì.",
                     "Every mechanism on the same applicants and seed; nothing is stored."),
    "compare_skipped": ("Cơ chế không áp dụng được cho hồ sơ này", "Mechanisms that do not apply here"),
    "export_results": ("Xuất kết quả CSV", "Export results CSV"),
    "publish": ("Công bố", "Publish"),
    "results_map": ("Bản đồ kết quả", "Results map"),
    "unplaced": ("Chưa trúng tuyển", "Not placed"),
    "results_full": ("Đủ chỉ tiêu", "Full"),
    "results_room": ("Còn chỗ", "Seats left"),
    "round_officers": ("Cán bộ phụ trách đợt", "Officers of this round"),
    "grant_button": ("Thêm cán bộ", "Add officer"),
    "publish_button": ("Công bố kết quả", "Publish the results"),
    "publish_note": ("Sau khi công bố, không thể nhập, chạy lại hay điều chỉnh.",
                     "Once published, no more imports, runs or overrides."),
    "published_note": ("Đợt này đã công bố: kết quả không thay đổi được nữa.",
                       "This round is published: its results are frozen."),
    "applicant_id": ("Mã hồ sơ", "Applicant id"),
    "explain": ("Giải thích kết quả", "Explanation"),
    "school": ("Trường", "School"),
    "override": ("Điều chỉnh của cán bộ", "Officer override"),
    "override_reason": ("Lý do (bắt buộc)", "Written reason (required)"),
    "override_button": ("Điều chỉnh", "Override"),
    "withdraw": ("— không xếp trường —", "— no school —"),
    "force": ("Vượt chỉ tiêu nếu trường đã đủ", "Exceed the capacity if the school is full"),
    "forecasts": ("Dự báo số học sinh theo phường", "Enrolment forecasts per ward"),
    "forecast_methods": ("Phương pháp được chọn (kiểm định ngược)", "Method chosen (backtest)"),
    "horizon_years": ("Số năm dự báo", "Years ahead"),
    "run_forecasts": ("Chạy dự báo", "Run the forecast"),
    "no_forecasts": ("Chưa có dự báo nào được lưu.", "No forecast stored yet."),
    "population_method": ("Dân số (đầu vào của dự báo và thiếu chỗ) được lập",
                          "Population (input of the forecasts and gaps) made"),
    "no_method_recorded": ("không ghi phương pháp", "no method recorded"),
    "measure": ("Chỉ số", "Measure"),
    "method": ("Phương pháp", "Method"),
    "wards": ("Số phường", "Wards"),
    "show": ("Xem", "Show"),
    "predicted": ("Dự báo", "Predicted"),
    "interval": ("Khoảng dự báo", "Interval"),
    "gaps": ("Thiếu chỗ học theo phường", "Capacity gaps per ward"),
    "threshold_min": ("Ngưỡng thời gian (phút)", "Travel-time threshold (min)"),
    "run_gaps": ("Tính thiếu hụt", "Compute the gaps"),
    "no_gaps": ("Chưa tính thiếu hụt cho lựa chọn này.", "No gaps computed for this choice."),
    "stored": ("Đã lưu", "Stored"),
    "demand": ("Nhu cầu", "Demand"),
    "accessible_seats": ("Chỗ tiếp cận được", "Accessible seats"),
    "shortfall": ("Số chỗ thiếu", "Seats short"),
    "nearest_time": ("Trường gần nhất (phút)", "Nearest school (min)"),
    "sites": ("Đề xuất vị trí trường mới", "Proposed new school sites"),
    "new_schools": ("Số trường mới", "New schools"),
    "model": ("Mô hình", "Model"),
    "max_candidates": ("Số điểm ứng viên tối đa", "Most candidate sites"),
    "run_sites": ("Tìm vị trí", "Find sites"),
    "what_if": ("Nếu thêm các trường này", "What if these schools existed"),
    "run_what_if": ("Chạy thử xét tuyển", "Rerun the round"),
    "children": ("Trẻ trong độ tuổi", "Children of entry age"),
    "places": ("Chỗ học", "Places"),
    "gap": ("Thiếu (-) / dư (+)", "Shortfall (-) / surplus (+)"),
    "data_date": ("Ngày dữ liệu", "Data date"),
    "licence": ("Giấy phép", "Licence"),
    "downloads": ("Tải dữ liệu trường học", "Download school data"),
    "road_network": ("Mạng lưới đường", "Road network"),
    "lost_race": ("Một thao tác khác đang sửa cùng dữ liệu; vui lòng gửi lại yêu cầu.",
                  "Another action was changing the same data; please send the request again."),
    "basemap_in_use": ("Bản đồ nền đang dùng để tính đường đi", "Basemap used for travel times"),
    "basemap_in_use_note": ("Chỉ quản trị viên đổi được, bằng lệnh edugis basemap use (có ghi nhật ký).",
                            "Only an administrator changes it, with edugis basemap use (audited)."),
    "school_page_map": ("Vị trí", "Location"),
    "not_found": ("Không tìm thấy", "Not found"),
    "db_unavailable_title": ("Tạm thời gián đoạn", "Temporarily unavailable"),
    "db_unavailable": ("Hệ thống tạm thời không kết nối được cơ sở dữ liệu. Vui lòng thử lại sau "
                       "ít phút.",
                       "The database cannot be reached for the moment. Please try again in a few "
                       "minutes."),
    "db_read_only_title": ("Đang bảo trì: chỉ xem", "Maintenance: read-only"),
    "db_read_only": ("Hệ thống đang bảo trì nên chỉ xem được; thay đổi chưa lưu được. Vui lòng "
                     "thử lại sau ít phút.",
                     "The system is under maintenance and read-only: you can look, but changes "
                     "cannot be saved yet. Please try again in a few minutes."),
    "server_error": ("Lỗi máy chủ; lỗi đã được ghi lại để xử lý.",
                     "Server error; it has been logged to be fixed."),
    "body_too_large": ("Tệp hoặc dữ liệu gửi lên quá lớn.", "The file or data sent is too large."),
    # the titles of error pages, by HTTP status
    "http_400": ("Yêu cầu không hợp lệ", "Invalid request"),
    "http_401": ("Cần đăng nhập", "Sign-in needed"),
    "http_403": ("Không được phép", "Not allowed"),
    "http_404": ("Không tìm thấy", "Not found"),
    "http_405": ("Phương thức không được hỗ trợ", "Method not supported"),
    "http_409": ("Xung đột dữ liệu", "Conflict"),
    "http_413": ("Dữ liệu quá lớn", "Too large"),
    "http_422": ("Dữ liệu không hợp lệ", "Invalid data"),
    "http_429": ("Quá nhiều yêu cầu", "Too many requests"),
    "http_500": ("Lỗi máy chủ", "Server error"),
    "http_503": ("Tạm thời không phục vụ được", "Temporarily unavailable"),
    "try_again": ("Thử lại", "Try again"),
    "sign_in_needed": ("Cần đăng nhập với vai trò phù hợp.", "Sign in with a suitable role."),
    "synthetic": ("Dữ liệu mẫu tổng hợp", "Synthetic demo data"),
}
# Each area's texts live beside it (and may override a shared key above).
TEXTS.update(FINDER_TEXTS)
TEXTS.update(PUBLIC_TEXTS)
TEXTS.update(OFFICER_TEXTS)
TEXTS.update(PLANNER_TEXTS)
TEXTS.update(STREAMING_TEXTS)
TEXTS.update(SCENARIO_TEXTS)


def lang_of(request: Request) -> str:
    """Return the language of a request: ``?lang=`` first, then the cookie, then Vietnamese."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "vi"
    return asked if asked in LANGUAGES else "vi"


def translate(key: str, lang: str) -> str:
    """Return the text of ``key`` in ``lang``; an unknown key is a bug and raises ``KeyError``."""
    vi, en = TEXTS[key]
    return en if lang == "en" else vi
