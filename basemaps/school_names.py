"""Guess a school's levels and ownership from its Vietnamese name (OSM education points).

OpenStreetMap rarely tags the level (``isced:level``) or the owner of a Vietnamese school, but
the name usually says both: "Trường Tiểu học Lê Văn Thọ", "THCS Độc Lập", "Trường THCS-THPT
Hoa Sen", "Trường Mầm non Tư thục Sapa". :func:`classify_school` reads that convention.

Rules (on the name folded to lower-case ASCII, ``đ`` as ``d``):

- higher and vocational education is left out: đại học (ĐH), cao đẳng (CĐ), học viện,
  trung cấp (TC, TCN), dạy nghề, giáo dục thường xuyên (GDTX), trung tâm, viện, and OSM
  ``amenity=university|college``;
- mầm non, mẫu giáo, nhà trẻ, or ``amenity=kindergarten`` → preschool;
- tiểu học, TH (as a word), cấp 1 → primary; THCS, PTCS, cấp 2 → lower secondary;
  THPT, PTTH, trung học phổ thông (or phổ thông trung học), cấp 3 → upper secondary;
  several of them in one name
  ("TH-THCS-THPT", "THCS & THPT", "cấp 1-2") → every level named (liên cấp);
- "liên cấp" alone, "phổ thông (PT)" alone, bilingual (song ngữ) and international schools (quốc tế,
  international, and the foreign schools' own names) without a level word → primary,
  lower and upper secondary (they usually teach grades 1-12);
- anything else (a name without a level word, e.g. "Trường Trần Hưng Đạo") is unknown and
  left out.

Ownership is private when the name says tư thục, dân lập, quốc tế / QT, international,
song ngữ (bilingual), ngoài công lập, names a foreign school or is English ("... School":
the city's public schools are named in Vietnamese), public otherwise.

What the heuristic gets wrong (measured on the 2018 OSM points, see ``data/hcmc/SOURCES.md``):
most private kindergartens and many private primary schools carry a brand name only
("Trường Mầm non Vừng Dương") and are called public; a public school with "Quốc tế" in its
street name would be called private; an international school's grades are assumed 1-12 even
when it teaches fewer; unnamed points and names without a level word (about a fifth of
the named points) are left out, so the real number of schools is higher.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gis_service.levels import SCHOOL_LEVELS

#: Levels assumed for a multi-level school whose name does not list them.
GENERAL = ("primary", "lower_secondary", "upper_secondary")

_EXCLUDED = re.compile(
    r"\b(dai hoc|dh|cao dang|cd|hoc vien|trung cap|tc|tcn|day nghe|nghe|giao duc thuong xuyen"
    r"|gdtx|trung tam|tt|vien|university|college|language|ngoai ngu|nhat ngu|training"
    r"|tutoring|phat hoc|boi duong)\b")
_PRESCHOOL = re.compile(r"\b(mam non|mau giao|nha tre|kindergarten|preschool|montessori)\b")
_PRIMARY = re.compile(r"\b(tieu hoc|th|cap 1|primary)\b|\bcap 1\s*-\s*2\b")
_LOWER = re.compile(r"\b(thcs|ptcs|cap 2|trung hoc co so)\b|\bcap 1\s*-\s*2\b")
_UPPER = re.compile(r"\b(thpt|ptth|cap 3|trung hoc pho thong|pho thong trung hoc|high school)\b")
_MULTI = re.compile(r"\b(lien cap|pho thong|pt|school|international|quoc te|qt|song ngu)\b")
_PRIVATE = re.compile(
    r"\b(tu thuc|dan lap|quoc te|qt|international|song ngu|ngoai cong lap|bilingual"
    r"|american|british|australian|singapore|japanese|korean|german|taipei|canada|han quoc"
    r"|dai bac|school|schools)\b")


@dataclass(frozen=True)
class SchoolClass:
    """What a school's name says: its levels (youngest first) and ownership."""

    levels: tuple[str, ...]
    ownership: str

    @property
    def level(self) -> str:
        """The school's first (youngest) level, its ``schools.level``."""
        return self.levels[0]


def fold(text: str) -> str:
    """Return ``text`` in lower-case ASCII: diacritics dropped, ``đ`` as ``d``, punctuation as spaces."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").lower()
    return re.sub(r"[^a-z0-9-]+", " ", text).strip()


def _named_levels(folded: str, amenity: str) -> tuple[str, ...]:
    """Return the levels the folded name (or OSM amenity) names, youngest first."""
    found = {
        "preschool": bool(_PRESCHOOL.search(folded)) or amenity == "kindergarten",
        "primary": bool(_PRIMARY.search(folded)),
        "lower_secondary": bool(_LOWER.search(folded)),
        "upper_secondary": bool(_UPPER.search(folded)),
    }
    return tuple(level for level in SCHOOL_LEVELS if found.get(level))  # vocational: left out


def classify_school(name: str, amenity: str = "school") -> SchoolClass | None:
    """Return the levels and ownership a school's name says, or ``None`` to leave it out.

    Parameters
    ----------
    name
        The school's name as written (Vietnamese, with or without diacritics).
    amenity
        OSM ``amenity`` (school, kindergarten, college, university).

    Returns
    -------
    SchoolClass or None
        ``None`` for higher or vocational education, an empty name, or a name that names
        no level (see the module's rules).
    """
    folded = fold(name)
    if not folded or amenity in ("university", "college"):
        return None
    ownership = "private" if _PRIVATE.search(folded) else "public"
    levels = _named_levels(folded, amenity)
    if levels:
        return SchoolClass(levels, ownership)
    if _EXCLUDED.search(folded) or not _MULTI.search(folded):
        return None
    return SchoolClass(GENERAL, ownership)
