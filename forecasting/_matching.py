"""Keys that match the names people write to the codes in the database (private helpers).

A cut-off file names "THPT Bùi Thị Xuân", the school list "PTTH Bùi thị Xuân"; a population
table names "Bình Thạnh", the boundaries "Quận Bình Thạnh". Both sides are folded
(:func:`gis_service.text_search.fold`: no diacritics, lower case) and the words that say what
kind of school or unit it is are dropped, so that the two meet on the proper name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from gis_service.errors import InvalidValueError
from gis_service.text_search import fold

#: Words that say what kind of school a name is, dropped from its start ("Trường THPT", "PTTH",
#: "THCS - THPT", "Tiểu học, THCS và THPT"), longest first.
SCHOOL_TYPE_WORDS: tuple[tuple[str, ...], ...] = tuple(sorted((tuple(p.split()) for p in (
    "truong", "thpt", "thcs", "th", "pt", "ptth", "pho thong", "trung hoc pho thong",
    "pho thong trung hoc", "trung hoc co so", "tieu hoc", "lien cap", "va", "cac cap",
    "ban cong", "tu thuc", "dan lap",
)), key=len, reverse=True))
#: Words that say what kind of admin unit a name is ("Quận", "Huyện", "Thành phố", "TP").
UNIT_TYPE_WORDS: tuple[tuple[str, ...], ...] = tuple(sorted((tuple(p.split()) for p in (
    "quan", "huyen", "thanh pho", "tp", "thi xa", "phuong", "xa", "thi tran", "dac khu",
)), key=len, reverse=True))
_SEPARATORS = re.compile(r"[-–,.&/()]+")


def _words(name: str) -> list[str]:
    visible = "".join(c for c in name if unicodedata.category(c) != "Cf")  # e.g. U+200E marks
    return _SEPARATORS.sub(" ", fold(visible)).split()


def _drop_leading(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> list[str]:
    """Drop every leading phrase of ``phrases`` (repeatedly) from ``words``."""
    changed = True
    while changed and words:
        changed = False
        for phrase in phrases:
            if tuple(words[:len(phrase)]) == phrase and len(words) > len(phrase):
                words = words[len(phrase):]
                changed = True
                break
    return words


def school_key(name: str, *, drop_chuyen: bool = False) -> str:
    """Return the proper name of a school, folded, without its type words.

    ``"Trường THPT Bùi Thị Xuân"`` and ``"PTTH Bùi thị Xuân"`` both give ``"bui thi xuan"``;
    with ``drop_chuyen`` a leading "Chuyên" (specialised) goes too.
    """
    phrases = SCHOOL_TYPE_WORDS + ((("chuyen",),) if drop_chuyen else ())
    return " ".join(_drop_leading(_words(name), phrases))


def unit_key(name: str) -> str:
    """Return the proper name of an admin unit, folded, without its type word.

    ``"Quận Bình Thạnh"`` and ``"Bình Thạnh"`` give ``"binh thanh"``; a numbered unit keeps its
    type (``"Quận 1"`` is ``"quan 1"``, not ``"Phường 1"``).
    """
    words = _words(name)
    rest = _drop_leading(words, UNIT_TYPE_WORDS)
    return " ".join(words if all(w.isdigit() for w in rest) else rest)


def parse_overrides(pairs: Iterable[str], option: str = "--map") -> dict[str, str]:
    """Return ``--map "name=code"`` pairs as folded name -> code.

    Raises
    ------
    InvalidValueError
        For a pair without ``=``, an empty side, or one name given two codes.
    """
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, eq, code = pair.rpartition("=")
        if not eq or not name.strip() or not code.strip():
            raise InvalidValueError(f"{option} wants 'name=code', got {pair!r}")
        key = fold(name)
        if overrides.get(key, code.strip()) != code.strip():
            raise InvalidValueError(f"{option}: {name.strip()!r} is given two codes")
        overrides[key] = code.strip()
    return overrides
