"""Vietnamese school levels: grades, entry age and names (Vietnamese first)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SchoolLevel:
    """One level of general education."""

    name: str
    label_vi: str
    label_en: str
    grades: tuple[int, ...]
    entry_age: int

    @property
    def entry_grade(self) -> int:
        """First grade of the level."""
        return self.grades[0]


LEVELS: tuple[SchoolLevel, ...] = (
    SchoolLevel("primary", "Tiểu học", "Primary", (1, 2, 3, 4, 5), 6),
    SchoolLevel("lower_secondary", "Trung học cơ sở", "Lower secondary", (6, 7, 8, 9), 11),
    SchoolLevel("upper_secondary", "Trung học phổ thông", "Upper secondary", (10, 11, 12), 15),
)
LEVEL_BY_NAME: dict[str, SchoolLevel] = {level.name: level for level in LEVELS}
ALL_GRADES: tuple[int, ...] = tuple(g for level in LEVELS for g in level.grades)


def level_of_grade(grade: int) -> SchoolLevel:
    """Return the level a grade belongs to."""
    for level in LEVELS:
        if grade in level.grades:
            return level
    raise ValueError(f"grade {grade} is not a grade of general education (1-12)")
