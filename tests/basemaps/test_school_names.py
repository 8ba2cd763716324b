"""The level/ownership classifier of Vietnamese school names (basemaps.school_names)."""

from __future__ import annotations

import pytest

from basemaps.school_names import GENERAL, classify_school, fold


def test_fold_drops_diacritics_and_reads_d_bar_as_d() -> None:
    assert fold("Trường Tiểu học Đinh Bộ Lĩnh") == "truong tieu hoc dinh bo linh"
    assert fold("THCS-THPT Hoa Sen") == "thcs-thpt hoa sen"


@pytest.mark.parametrize(("name", "amenity", "levels"), [
    ("Trường Mầm non Vừng Dương", "school", ("preschool",)),
    ("Truường mẫu giáo Sapa", "kindergarten", ("preschool",)),
    ("Nhà trẻ 19 tháng 5", "kindergarten", ("preschool",)),
    ("Fosco", "kindergarten", ("preschool",)),  # OSM says kindergarten, the name does not
    ("Trường Tiểu học Lê Văn Thọ", "school", ("primary",)),
    ("th luong dinh cua", "school", ("primary",)),
    ("Trường cấp 1 Phan văn Trị", "school", ("primary",)),
    ("THCS Độc Lập", "school", ("lower_secondary",)),
    ("Trường PTCS Lê Qúy Đôn", "school", ("lower_secondary",)),
    ("Trường THPT Thanh Bình", "school", ("upper_secondary",)),
    ("Trường PTTH Lê Qúy Đôn", "school", ("upper_secondary",)),
    ("Trường phổ thông trung học Lê Thánh Tôn", "school", ("upper_secondary",)),
    ("Trường THCS - THPT Tân Phú", "school", ("lower_secondary", "upper_secondary")),
    ("Trường THCS & THPT Nhân Văn", "school", ("lower_secondary", "upper_secondary")),
    ("Trường TH-THCS-THPT Việt Úc", "school", GENERAL),
    ("Trường cấp 1-2 Tân Sơn", "school", ("primary", "lower_secondary")),
    ("Trường PT Dân Lập Văn Hiến", "school", GENERAL),  # phổ thông without a level: 1-12
    ("Trường liên cấp Ngôi Sao", "school", GENERAL),
    ("Australian International School", "school", GENERAL),
])
def test_levels_come_from_the_name(name: str, amenity: str, levels: tuple[str, ...]) -> None:
    found = classify_school(name, amenity)
    assert found is not None
    assert found.levels == levels
    assert found.level == levels[0]


@pytest.mark.parametrize(("name", "amenity"), [
    ("Đại học Mỹ thuật TP.HCM", "school"),
    ("ĐH GTVT cs3", "school"),
    ("CĐ Kinh Tế TPHCM", "school"),
    ("Trường Trung Cấp Nghề Thủ Đức", "school"),
    ("TT Giáo Dục Thường Xuyên Phú Nhuận", "school"),
    ("Học viện Hành Chính Quốc Gia", "school"),
    ("Trường Đại học Sài Gòn", "university"),
    ("Some campus", "college"),
    ("Trường Trần Hưng Đạo", "school"),  # no level word: unknown, left out
    ("", "school"),
])
def test_higher_vocational_unnamed_and_unknown_are_left_out(name: str, amenity: str) -> None:
    assert classify_school(name, amenity) is None


@pytest.mark.parametrize(("name", "ownership"), [
    ("Trường Tiểu học Lê Văn Thọ", "public"),
    ("Trường THPT Ngôi Sao", "public"),  # private in fact: the name does not say so
    ("Trường Mầm non Tư thục Hoa Hồng", "private"),
    ("Trường TH Dân Lập Quốc Tế Việt Úc", "private"),
    ("Tiểu Học QT APU", "private"),
    ("Trường Song Ngữ Horizon", "private"),
    ("The British International School, AP2 Campus", "private"),
    ("VStar School", "private"),
])
def test_ownership_is_private_only_when_the_name_says_so(name: str, ownership: str) -> None:
    found = classify_school(name)
    assert found is not None
    assert found.ownership == ownership
