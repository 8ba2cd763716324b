"""Interface texts of the transport scenarios page, Vietnamese first, English.

Merged into :data:`web.i18n.TEXTS`; every key starts with ``scen_``. Texts with ``{name}``
are ``str.format`` templates filled in by the page.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "scen_title": ("Kịch bản giao thông (giả định)", "Transport scenarios (what-if)"),
    "scen_link": ("Kịch bản giao thông: đường, cầu, metro mới hoặc cấm đường — so với mạng đường "
                  "hiện tại",
                  "Transport scenarios: new roads, bridges, metro lines or closures against the "
                  "network in use"),
    "scen_back": ("← Quy hoạch", "← Planning"),
    "scen_intro": (
        "Một kịch bản là các thay đổi giả định của mạng giao thông, vẽ trên bản đồ nền đang dùng "
        "nhưng không bao giờ sửa bản đồ nền. Tải lên tệp GeoJSON (WGS 84) cho từng loại thay đổi, "
        "rồi so sánh thời gian đi tới trường, chỗ học trong tầm đi lại (2SFCA) và địa bàn tuyển "
        "sinh trước và sau.",
        "A scenario is a set of planned changes of the transport network, drawn on the basemap in "
        "use but never changing it. Upload a GeoJSON file (WGS 84) per kind of change, then "
        "compare travel times to school, places within reach (2SFCA) and catchments before and "
        "after."),
    "scen_list": ("Các kịch bản", "Scenarios"),
    "scen_none": ("Chưa có kịch bản nào.", "No scenario yet."),
    "scen_name": ("Tên", "Name"),
    "scen_description": ("Mô tả", "Description"),
    "scen_edits": ("Số thay đổi", "Edits"),
    "scen_kinds": ("Loại", "Kinds"),
    "scen_basemap": ("Bản đồ nền", "Basemap"),
    "scen_create": ("Tạo kịch bản", "Create a scenario"),
    "scen_name_hint": ("chữ, số, _ . -", "letters, digits, _ . -"),
    "scen_open": ("Mở", "Open"),
    "scen_delete": ("Xoá kịch bản", "Delete the scenario"),
    "scen_upload": ("Thêm thay đổi từ tệp GeoJSON", "Add edits from a GeoJSON file"),
    "scen_file": ("Tệp GeoJSON", "GeoJSON file"),
    "scen_kind": ("Loại thay đổi", "Kind of edit"),
    "scen_kind_road": ("Đường hoặc cầu mới", "New road or bridge"),
    "scen_kind_metro": ("Tuyến metro (một đường + các ga)", "Metro line (one line + stations)"),
    "scen_kind_closure": ("Cấm đường (đường hoặc vùng)", "Closure (line or polygon)"),
    "scen_speed": ("Tốc độ (km/h), nếu tệp không ghi", "Speed (km/h), if the file has none"),
    "scen_highway": ("Cấp đường", "Road class"),
    "scen_oneway": ("Một chiều", "One-way"),
    "scen_headway": ("Giãn cách chuyến metro (phút)", "Metro headway (minutes)"),
    "scen_add": ("Thêm", "Add"),
    "scen_added": ("Đã thêm {count} thay đổi.", "{count} edit(s) added."),
    "scen_refused": ("Tệp bị từ chối:", "The file was refused:"),
    "scen_edit_list": ("Các thay đổi", "Edits"),
    "scen_compare": ("So sánh với mạng đường hiện tại", "Compare with the network in use"),
    "scen_level": ("Cấp học", "Level"),
    "scen_round": ("Chạy lại đợt tuyển sinh (tuỳ chọn)", "Rerun an admission round (optional)"),
    "scen_no_round": ("— không —", "— none —"),
    "scen_show": ("So sánh", "Compare"),
    "scen_map": ("Bản đồ trước/sau: thay đổi thời gian đi tới trường gần nhất",
                 "Before/after map: change of the time to the nearest school"),
    "scen_legend": ("Thay đổi (giây)", "Change (seconds)"),
    "scen_before": ("Trước", "Before"),
    "scen_after": ("Sau", "After"),
    "scen_ward": ("Phường/xã", "Ward or commune"),
    "scen_population": ("Dân số", "Population"),
    "scen_time_before": ("Thời gian trước (phút)", "Time before (min)"),
    "scen_time_after": ("Thời gian sau (phút)", "Time after (min)"),
    "scen_change": ("Thay đổi (giây)", "Change (s)"),
    "scen_tip_time": (
        "Trung bình, trên các điểm cách nhau 300 m trong phường, của thời gian đi xe máy tới "
        "trường gần nhất của cấp học.",
        "Mean, over points 300 m apart inside the ward, of the motorbike time to the nearest "
        "school of the level."),
    "scen_summary": (
        "{faster} phường nhanh hơn, {slower} phường chậm hơn; thay đổi trung bình theo dân số "
        "{mean} giây; thiếu chỗ (2SFCA) {short_before} → {short_after}.",
        "{faster} wards faster, {slower} slower; population-weighted mean change {mean} s; "
        "seat shortfall (2SFCA) {short_before} → {short_after}."),
    "scen_gaps": ("Chỗ học trong tầm đi lại (2SFCA)", "Places within reach (2SFCA)"),
    "scen_demand": ("Nhu cầu", "Demand"),
    "scen_per_child_before": ("Chỗ/trẻ trước", "Places per child before"),
    "scen_per_child_after": ("Chỗ/trẻ sau", "Places per child after"),
    "scen_short_before": ("Thiếu chỗ trước", "Shortfall before"),
    "scen_short_after": ("Thiếu chỗ sau", "Shortfall after"),
    "scen_catchments": ("Thay đổi địa bàn (trường công lập gần nhất)",
                        "Catchment changes (nearest public school)"),
    "scen_catchments_none": ("Không phường nào đổi trường công lập gần nhất.",
                             "No ward changes its nearest public school."),
    "scen_points_changed": ("Số điểm đổi trường", "Points changing school"),
    "scen_schools_before": ("Trường gần nhất trước (số điểm)", "Nearest school before (points)"),
    "scen_schools_after": ("Trường gần nhất sau (số điểm)", "Nearest school after (points)"),
    "scen_admissions": ("Đợt tuyển sinh chạy lại (không lưu)", "Admission round rerun (nothing stored)"),
    "scen_network": ("Mạng đường", "Network"),
    "scen_placed": ("Trúng tuyển", "Placed"),
    "scen_unplaced": ("Chưa có chỗ", "Unplaced"),
    "scen_distance": ("Quãng đường TB (m)", "Mean distance (m)"),
    "scen_time": ("Thời gian TB (giây)", "Mean time (s)"),
    "scen_envy": ("Ưu tiên bị vi phạm", "Justified envy"),
    "scen_moved": ("Đổi trường so với mạng hiện tại", "Moved against the base"),
    "scen_unknown": ("Không có kịch bản {name!r}", "No scenario {name!r}"),
    "scen_planning_input": (
        "Dữ liệu quy hoạch giả định: kết quả chỉ để tham khảo.",
        "Planning inputs: figures are what-if estimates."),
}
