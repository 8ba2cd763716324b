"""Interface texts of the planner pages (vi, en), merged into :data:`web.i18n.TEXTS`.

A key here overrides one of the same name in :mod:`web.i18n`. Texts with ``{name}`` are
``str.format`` templates filled in by the page.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # the first-screen guide
    "guide_title": ("Trang này giúp gì?", "What this page does"),
    "guide_intro": ("Ước tính số học sinh sắp vào trường theo phường, tìm nơi thiếu chỗ học và "
                    "đề xuất nơi nên mở trường mới.",
                    "It estimates how many children will start school in each ward, finds where "
                    "places are short, and suggests where new schools would help most."),
    "guide_step1": ("Dự báo số học sinh của những năm tới (kèm khoảng {level} %).",
                    "Forecast the pupils of the coming years (with an {level} % range)."),
    "guide_step2": ("Tính mỗi phường thiếu bao nhiêu chỗ học trong một thời gian đi đường.",
                    "Compute how many places each ward lacks within a travel time."),
    "guide_step3": ("Tìm vị trí trường mới: trang cho biết mỗi vị trí giúp được bao nhiêu trẻ.",
                    "Find new school sites: the page says how many children each one helps."),
    "guide_step4": ("Thử lại một đợt tuyển sinh như thể các trường mới đã có.",
                    "Rerun an admission round as if the new schools existed."),
    # forecasts in plain words
    "interval": ("Khoảng dự báo {level} %", "{level} % range"),
    "interval_note": ("Khoảng dự báo {level} %: trong kiểm tra trên các năm đã qua, khoảng {in10} "
                      "trên 10 giá trị thực tế nằm trong khoảng như vậy.",
                      "{level} % range: tested on past years, about {in10} in 10 actual figures "
                      "fell inside such a range."),
    "tip_predicted": ("Số học sinh ước tính nhiều khả năng nhất cho năm này.",
                      "The most likely number of pupils for that year."),
    "tip_interval": ("Số thực tế có khả năng {level} % nằm trong khoảng này (kiểm tra trên các "
                     "năm đã qua).",
                     "The actual number has a {level} % chance of falling in this range (checked "
                     "on past years)."),
    "measure": ("Đếm học sinh", "Pupils counted"),
    "measure_entry": ("Vào lớp đầu cấp", "Starting the first grade"),
    "measure_total": ("Toàn cấp học", "All grades of the level"),
    "method_cohort": ("Theo độ tuổi dân số", "From the population by age"),
    "method_challenger": ("Học từ số liệu các năm trước", "Learned from past years"),
    "method_naive": ("Giữ như năm gần nhất", "Same as the latest year"),
    "forecast_methods": ("Cách dự báo được chọn (cách sai ít nhất trên các năm đã qua)",
                         "How each forecast is made (the way that erred least on past years)"),
    "columns_meaning": ("Ý nghĩa các cột", "What the columns mean"),
    # gaps
    "tip_demand": ("Số trẻ dự báo vào lớp đầu cấp ở phường này.",
                   "Children forecast to start the first grade in this ward."),
    "tip_accessible_seats": ("Số chỗ của các trường đi tới được trong ngưỡng thời gian, chia đều "
                             "cho các phường dùng chung trường.",
                             "Places of the schools reachable within the time limit, shared "
                             "among the wards that use the same schools."),
    "tip_shortfall": ("Nhu cầu trừ chỗ tiếp cận được (0 nếu đủ chỗ).",
                      "Demand minus accessible places (0 when there are enough)."),
    "tip_nearest_time": ("Thời gian đi xe máy tới trường gần nhất, làm tròn phút.",
                         "Motorbike time to the nearest school, in rounded minutes."),
    # sites
    "model": ("Mục tiêu", "Aim"),
    "model_p_median": ("Giảm thời gian đi học trung bình", "Shortest trips on average"),
    "model_max_coverage": ("Nhiều trẻ nhất có trường trong ngưỡng thời gian",
                           "Most children with a school within the time limit"),
    "solve_exact": ("lời giải tốt nhất (đã kiểm chứng)", "best possible answer (proven)"),
    "solve_heuristic": ("lời giải gần tốt nhất", "near-best answer"),
    "solve_gap": ("cách tốt nhất có thể tối đa {gap} %", "at most {gap} % from the best possible"),
    "max_candidates": ("Số điểm thử tối đa", "Most places tried"),
    "sites_takes_time": ("Việc tìm vị trí có thể mất khoảng một phút; trang sẽ tự cập nhật.",
                         "Finding sites can take about a minute; the page updates by itself."),
    "job_running": ("Đang tìm vị trí trường mới…", "Finding new school sites…"),
    "job_elapsed": ("Đã chạy {elapsed} giây", "Running for {elapsed} s"),
    "job_expected": ("(thường mất khoảng {expected} giây)", "(usually about {expected} s)"),
    "job_stage_demand": ("Đọc nhu cầu và các điểm có thể đặt trường", "Reading demand and possible places"),
    "job_stage_routes": ("Tính thời gian đi đường", "Computing travel times"),
    "job_stage_solve": ("Chọn các vị trí tốt nhất", "Choosing the best places"),
    "job_stage_store": ("Lưu kết quả", "Saving the result"),
    "job_done": ("Đã xong. Đang mở kết quả…", "Done. Opening the result…"),
    "job_busy": ("Bạn đang có một lượt tìm vị trí chưa xong; đợi lượt đó xong rồi chạy lại.",
                 "You already have a site search running; wait for it to end, then start again."),
    "job_lost": ("Lượt tìm vị trí trước bị gián đoạn (máy chủ khởi động lại); vui lòng chạy lại.",
                 "The previous site search was interrupted (the server restarted); please run it again."),
    "job_failed": ("Không tìm được vị trí với lựa chọn này", "No sites could be found with this choice"),
    "job_reload": ("Tải lại trang để xem tiến độ.", "Reload the page to see the progress."),
    "last_run": ("Kết quả lần chạy gần nhất", "Latest result"),
    "sites_summary": ("Trước và sau khi thêm các trường mới", "Before and after adding the new schools"),
    "case": ("Trường hợp", "Case"),
    "case_before": ("Hiện nay", "Today"),
    "case_after": ("Có trường mới", "With the new schools"),
    "covered_share": ("Trẻ có trường trong {minutes} phút", "Children with a school within {minutes} min"),
    "tip_covered_share": ("Tỉ lệ trẻ (theo dự báo) có ít nhất một trường đi tới được trong ngưỡng "
                          "thời gian.",
                          "Share of the forecast children with at least one school within the time "
                          "limit."),
    "mean_time": ("Thời gian tới trường gần nhất, trung bình (phút)",
                  "Average time to the nearest school (min)"),
    "tip_mean_time": ("Trung bình theo số trẻ của thời gian đi xe máy tới trường gần nhất.",
                      "Motorbike time to the nearest school, averaged over the children."),
    "site_col": ("Vị trí", "Site"),
    "why_chosen": ("Vì sao chọn", "Why it was chosen"),
    "children_served": ("Trẻ sẽ học gần hơn", "Children served"),
    "tip_children_served": ("Số trẻ mà trường mới này sẽ là trường gần nhất, trong ngưỡng thời gian.",
                            "Children for whom this new school would be the nearest, within the "
                            "time limit."),
    "newly_covered": ("Trẻ nay mới có trường gần", "Newly within reach"),
    "tip_newly_covered": ("Trong số trẻ đó, số trẻ hiện chưa có trường nào trong ngưỡng thời gian.",
                          "Of those children, the ones with no school within the time limit today."),
    "coordinates": ("Tọa độ (vĩ độ, kinh độ)", "Coordinates (lat, lon)"),
    "why_ward": ("{ward} đang thiếu {shortfall} chỗ học (năm {year}, trong {minutes} phút).",
                 "{ward} is short of {shortfall} places ({year}, within {minutes} min)."),
    "why_served": ("Trường mới ở đây sẽ là trường gần nhất trong {minutes} phút cho khoảng {served} "
                   "trẻ; {newly} trẻ trong số đó hiện chưa có trường nào trong {minutes} phút.",
                   "A school here would be the nearest within {minutes} min for about {served} "
                   "children; {newly} of them have no school within {minutes} min today."),
    "why_saved": ("Những trẻ khác đi học nhanh hơn trung bình {saved} phút.",
                  "The others would save {saved} min on average."),
    "why_unknown": ("Lần chạy này được lưu trước khi trang ghi lý do; chạy lại để xem.",
                    "This run was stored before reasons were kept; run it again to see them."),
    # what-if
    "wi_schools": ("Số trường", "Schools"),
    "wi_placed": ("Được xếp trường", "Given a school"),
    "wi_unplaced": ("Chưa được xếp", "Not given a school"),
    "distance_mean": ("Quãng đường trung bình (km)", "Average distance (km)"),
    "share_within_2km": ("Trong vòng 2 km", "Within 2 km"),
    "tip_placed": ("Số học sinh của đợt được xếp vào một trường.",
                   "Applicants of the round who get a school."),
    "tip_distance_mean": ("Quãng đường trung bình từ nhà tới trường được xếp.",
                          "Average distance from home to the school given."),
    "tip_share_within_2km": ("Tỉ lệ học sinh được xếp trường cách nhà không quá 2 km.",
                             "Share of applicants given a school at most 2 km from home."),
}
