"""Error hierarchy. Every message says what to do next; the CLI and app show them without a traceback."""

from __future__ import annotations

import errno
import os


class VraagpuntError(Exception):
    """Base class for errors a user can act on."""


class ConfigError(VraagpuntError):
    """A setting is missing or invalid."""


class InputError(VraagpuntError):
    """An input file (evaluation set, batch of questions) has bad lines."""


class IngestError(VraagpuntError):
    """A document could not be read; the file is skipped with this reason."""


class IndexMissingError(VraagpuntError):
    """There is no index yet."""


class ModelMismatchError(VraagpuntError):
    """The index was built with another embedding model than the one configured."""


class BackendUnavailableError(VraagpuntError):
    """A server (Chroma, LLM endpoint) could not be reached."""


class IndexBusyError(VraagpuntError):
    """Another ingest holds the index's writer lock."""


class StorageError(VraagpuntError):
    """The data folder cannot be written or read: disk full, read-only or gone."""


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
# Chroma and SQLite report file system errors as text, not as an errno.
_FULL_TEXT = ("no space left", "disk is full", "database or disk is full", "file too large")
_READ_ONLY_TEXT = ("read-only file system", "readonly database", "attempt to write a readonly", "permission denied")


def _no_room(path: object) -> bool:
    """Whether the file system of `path` has (next to) no room left: SQLite in WAL mode reports a full disk
    as a plain "disk I/O error"."""
    try:
        stats = os.statvfs(str(path))
    except (OSError, ValueError):
        return False
    return stats.f_bavail * stats.f_frsize < 1024 * 1024


def _read_only(path: object) -> bool:
    """Whether `path` cannot be written (a read-only mount refuses even root); SQLite often just says it
    is "unable to open database file"."""
    return os.path.isdir(str(path)) and not os.access(str(path), os.W_OK)


def storage_error(exc: BaseException, path: object, what: str) -> StorageError | None:
    """A Dutch StorageError for a full, read-only or vanished data folder; None for any other failure.

    `what` names what could not be written ("de nieuwe index", "je feedback"), as the user knows it.
    """
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if code in _FULL or any(t in text for t in _FULL_TEXT) or (code is None and _no_room(path)):
        return StorageError(f"De schijf is vol: {what} kon niet geschreven worden in {path}. "
                            "Maak ruimte vrij en probeer het opnieuw.")
    if code in _READ_ONLY or any(t in text for t in _READ_ONLY_TEXT) or (code is None and _read_only(path)):
        return StorageError(f"De map {path} is alleen-lezen: {what} kon niet geschreven worden. Maak de map "
                            "schrijfbaar (of kies een andere met VRAAGPUNT_DATA_DIR) en probeer het opnieuw.")
    if code == errno.ENOENT:
        return StorageError(f"De map {path} bestaat niet (meer): {what} kon niet geschreven worden. "
                            "Herstel de map of voer `vraagpunt ingest` uit om de index opnieuw op te bouwen.")
    return None
