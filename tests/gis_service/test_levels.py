"""The one table of school levels agrees with itself and with the database."""

from __future__ import annotations

import pytest

from gis_service.levels import (
    ALL_LEVELS,
    ENTRY_GRADES,
    LEVEL_BY_NAME,
    LEVELS,
    SCHOOL_LEVELS,
    capacity_column,
    level_of_grade,
    school_level,
)
from gis_service.models import School


def test_names_types_and_table_agree() -> None:
    assert SCHOOL_LEVELS == tuple(LEVEL_BY_NAME) == tuple(level.name for level in ALL_LEVELS)
    assert tuple(level.entry_grade for level in LEVELS) == ENTRY_GRADES
    assert [level.capacity_column for level in LEVELS] == [
        "capacity_grade1", "capacity_grade6", "capacity_grade10"]
    assert all(hasattr(School, level.capacity_column) for level in LEVELS)


def test_every_grade_has_one_level() -> None:
    assert [level_of_grade(g).name for g in (1, 5, 6, 9, 10, 12)] == [
        "primary", "primary", "lower_secondary", "lower_secondary", "upper_secondary",
        "upper_secondary"]
    with pytest.raises(ValueError, match="grade 13 is not a grade"):
        level_of_grade(13)


def test_unknown_names_and_grades_fail_loudly() -> None:
    assert school_level("preschool").short_vi == "Mầm non"
    assert [level.in_sentence_vi for level in ALL_LEVELS] == [
        "mầm non", "tiểu học", "THCS", "THPT", "GDNN-GDTX"]
    with pytest.raises(ValueError, match="unknown level 'college'; one of preschool, primary"):
        school_level("college")
    with pytest.raises(ValueError, match="grade 7 is not an entry grade"):
        capacity_column(7)
    with pytest.raises(ValueError, match="preschool has no grades"):
        _ = school_level("preschool").capacity_column
