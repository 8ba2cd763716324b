"""Interface texts of the public pages (vi, en), merged into :data:`web.i18n.TEXTS`.

A key here overrides one of the same name in :mod:`web.i18n`. Also the English names of
the schools' programmes (:func:`programme_name`), which the database holds in Vietnamese.
"""

from __future__ import annotations

import re
import unicodedata

TEXTS: dict[str, tuple[str, str]] = {
    "compare_none": (
        "Bạn chưa chọn trường nào để so sánh. Hãy đánh dấu từ 2 đến 4 trường trong danh sách"
        " (cột «So sánh») rồi bấm «So sánh các trường đã chọn».",
        "You have not ticked any school to compare. Tick 2 to 4 schools in the list"
        " (the 'Compare' column), then press 'Compare the ticked schools'."),
    "compare_too_many": (
        "Bạn đã chọn {count} trường; mỗi lần chỉ so sánh được tối đa {limit} trường."
        " Hãy bỏ đánh dấu bớt rồi bấm «So sánh các trường đã chọn».",
        "You ticked {count} schools; at most {limit} can be compared at a time."
        " Untick some, then press 'Compare the ticked schools'."),
    "compare_problem_title": ("Chưa so sánh được", "Nothing compared yet"),
    "compare_back": ("Quay lại danh sách trường", "Back to the school list"),
    "csv_sidecar": (
        "Tệp CSV mã hóa UTF-8 có BOM (mở thẳng bằng Excel), dòng đầu là tên cột, không có dòng"
        " chú thích. Giấy phép, nguồn, ngày dữ liệu và ý nghĩa từng cột nằm trong tệp mô tả"
        " đi kèm theo chuẩn CSV on the Web (W3C), cũng được chỉ tới qua tiêu đề HTTP Link"
        " (rel=\"describedby\") của tệp CSV.",
        "The CSV file is UTF-8 with a byte order mark (Excel opens it directly); its first line"
        " names the columns and it has no comment lines. The licence, source, data date and the"
        " meaning of each column are in the accompanying CSV on the Web (W3C) metadata file,"
        " also linked from the CSV's HTTP Link header (rel=\"describedby\")."),
    "csv_metadata": ("Mô tả tệp CSV (CSVW, JSON)", "CSV description (CSVW, JSON)"),
    "csv_columns": ("Các cột của tệp CSV", "Columns of the CSV file"),
    "col_code": ("Mã trường", "School code"),
    "col_ward_code": ("Mã phường/xã", "Ward or commune code"),
    "col_ward_name": ("Tên phường/xã", "Ward or commune name"),
    "col_district_code": ("Mã quận/huyện cũ", "Former district code"),
    "col_district_name": ("Tên quận/huyện cũ", "Former district name"),
    "col_lon": ("Kinh độ (WGS 84)", "Longitude (WGS 84)"),
    "col_lat": ("Vĩ độ (WGS 84)", "Latitude (WGS 84)"),
}

#: English names of the programmes HCMC schools list, by their Vietnamese name (lower case).
PROGRAMMES_EN: dict[str, str] = {
    "thường (đại trà)": "Regular (standard)",
    "thường": "Regular",
    "đại trà": "Standard",
    "tích hợp": "Integrated (Vietnamese and English curricula)",
    "tiếng anh tích hợp": "Integrated English",
    "học 2 buổi/ngày": "Full day (two sessions a day)",
    "song ngữ": "Bilingual",
    "chất lượng cao": "High quality",
    "quốc tế": "International",
}
#: Subjects and languages as they appear after "Chuyên" or "Tiếng".
SUBJECTS_EN: dict[str, str] = {
    "toán": "Mathematics", "lý": "Physics", "vật lý": "Physics", "hóa": "Chemistry",
    "hoá": "Chemistry", "hóa học": "Chemistry", "sinh": "Biology", "sinh học": "Biology",
    "tin": "Computer science", "tin học": "Computer science", "văn": "Literature",
    "ngữ văn": "Literature", "sử": "History", "lịch sử": "History", "địa": "Geography",
    "địa lý": "Geography", "anh": "English", "nhật": "Japanese", "trung": "Chinese",
    "pháp": "French", "đức": "German", "hàn": "Korean", "nga": "Russian",
}
_SPECIALISED = re.compile(r"^chuyên (.+?)(?: \((.+)\))?$")
_LANGUAGE = re.compile(r"^tiếng (\w+)(?: (tăng cường|tích hợp))?$")


def programme_name(name: str, lang: str) -> str:
    """Return a programme's name in ``lang``: as stored for Vietnamese, translated for English.

    Known names and the patterns "Chuyên <subject>" (specialised) and "Tiếng <language>
    tăng cường" are translated; a name edugis does not know stays in Vietnamese.
    """
    if lang != "en":
        return name
    key = " ".join(unicodedata.normalize("NFC", name).casefold().split())
    if key in PROGRAMMES_EN:
        return PROGRAMMES_EN[key]
    specialised = _SPECIALISED.match(key)
    if specialised and specialised.group(1) in SUBJECTS_EN:
        note = f" ({specialised.group(2).replace('đề án', 'scheme')})" if specialised.group(2) else ""
        return f"Specialised {SUBJECTS_EN[specialised.group(1)]}{note}"
    language = _LANGUAGE.match(key)
    if language and language.group(1) in SUBJECTS_EN:
        kind = {"tăng cường": "Intensive ", "tích hợp": "Integrated "}.get(language.group(2) or "", "")
        return f"{kind}{SUBJECTS_EN[language.group(1)]}"
    return name
