"""Diacritic-insensitive matching of Vietnamese names (schools, streets, wards)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case ``text`` without Vietnamese diacritics (``Đường Mẫu`` -> ``duong mau``)."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(stripped.casefold().split())


def matches(query: str, name: str) -> bool:
    """Tell whether every word of ``query`` occurs in ``name``, ignoring case and diacritics.

    A query typed with diacritics must match them exactly (``mẫu`` does not match ``mầu``);
    a query typed without matches either.
    """
    words = query.split()
    if not words:
        return True
    plain_name, lowered = fold(name), unicodedata.normalize("NFC", name).casefold()
    for word in words:
        word_nfc = unicodedata.normalize("NFC", word).casefold()
        has_marks = fold(word) != word_nfc
        if has_marks and word_nfc not in lowered:
            return False
        if not has_marks and fold(word) not in plain_name:
            return False
    return True
