"""Interface texts of the officer pages (vi, en), merged into :data:`web.i18n.TEXTS`.

A key here overrides one of the same name in :mod:`web.i18n`.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
}
