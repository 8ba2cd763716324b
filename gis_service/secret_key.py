"""The key that signs session cookies and CSRF tokens when none is configured.

A fresh install has no ``EDUGIS_SECRET_KEY``; rather than fall back to a constant anyone can
read in the source (which let a forged cookie in), edugis makes a random key on first start
and keeps it in ``<data_dir>/secret_key``, readable by its owner only (0600), so every worker
and every restart signs with the same key. Production must set ``EDUGIS_SECRET_KEY``
(``Settings`` refuses to start without it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from gis_service.errors import ConfigurationError

#: Name of the key file inside the data folder.
SECRET_FILE = "secret_key"
#: Shortest key accepted from a file or from the environment in production (256 bits in hex).
MIN_SECRET_CHARS = 32


def load_or_create_secret(path: Path) -> str:
    """Return the key stored at ``path``, made (random, 256 bits, mode 0600) when there is none.

    Several workers may start together: the key is written to a private temporary file and
    linked into place, which fails for all but the first, and those then read the winner's key,
    so all of them sign with the same key.

    Raises
    ------
    ConfigurationError
        When the file exists but others may read it (group/other permission bits set), or
        holds fewer than ``MIN_SECRET_CHARS`` characters.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):  # another worker's key came first: use it
                os.link(temporary, path)
        finally:
            temporary.unlink()
    return _read_private(path)


def _read_private(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"secret_key file {path}: others may read it (mode {stat.S_IMODE(mode):o}); run "
            f"chmod 600 {path}",
            f"tệp khóa bí mật {path}: người khác đọc được (quyền {stat.S_IMODE(mode):o}); hãy "
            f"chạy chmod 600 {path}")
    key = path.read_text().strip()
    if len(key) < MIN_SECRET_CHARS:
        raise ConfigurationError(
            f"secret_key file {path}: the key has {len(key)} characters, at least "
            f"{MIN_SECRET_CHARS} are needed; delete the file to have a new one made",
            f"tệp khóa bí mật {path}: khóa chỉ có {len(key)} ký tự, cần ít nhất "
            f"{MIN_SECRET_CHARS}; xóa tệp để tạo khóa mới")
    return key
