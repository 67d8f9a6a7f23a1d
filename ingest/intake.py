"""What may enter the corpus: a file's type judged by its content, its size, and an upload's name.

Shared by the loaders (every file, also those staff copy into the folder) and the app's upload form.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from pathlib import Path

from vraagpunt.errors import IngestError, storage_error

SUPPORTED = {".pdf", ".md", ".markdown", ".txt", ".text", ".html", ".htm"}
_MAX_NAME_BYTES = 150  # of the stem, in UTF-8: file systems allow 255 for the whole name
# Leading bytes of formats that are no document Vraagpunt reads, as a user would name them.
_MAGIC = [
    (b"PK\x03\x04", "een zip-archief (of een Office-document)"),
    (b"PK\x05\x06", "een zip-archief"),
    (b"\x1f\x8b", "een gzip-archief"),
    (b"7z\xbc\xaf\x27\x1c", "een 7-Zip-archief"),
    (b"Rar!", "een RAR-archief"),
    (b"\xd0\xcf\x11\xe0", "een oud Office-document (.doc/.xls)"),
    (b"\x89PNG", "een afbeelding (PNG)"),
    (b"\xff\xd8\xff", "een afbeelding (JPEG)"),
    (b"GIF8", "een afbeelding (GIF)"),
    (b"\x7fELF", "een programma"),
    (b"MZ", "een programma"),
    (b"%PDF-", "een PDF"),
]
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_NOT_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def max_bytes(max_file_mb: float) -> int:
    return int(max_file_mb * 1024 * 1024)


def check_size(size: int, max_file_mb: float) -> None:
    """Refuse a file over the size limit, before anything reads it."""
    if size > max_bytes(max_file_mb):
        raise IngestError(
            f"bestand is te groot ({size / 1024 / 1024:.1f} MB; het maximum is {max_file_mb:g} MB, "
            "VRAAGPUNT_MAX_FILE_MB). Splits het document of verhoog het maximum."
        )


def describe(head: bytes) -> str:
    """What the first bytes of a file are, in words (e.g. "een zip-archief", "tekst")."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head.startswith(_UTF16_BOMS) or not _looks_binary(head):
        return "tekst"
    return "binaire gegevens"


def check_content(suffix: str, head: bytes) -> None:
    """Refuse a file whose content is not what its extension says (a zip renamed to .pdf, a program to .md).

    `head` is the file's first few kilobytes.
    """
    suffix = suffix.lower()
    if suffix == ".pdf":
        if b"%PDF-" not in head[:1024]:  # the header may follow a little junk, never much
            raise IngestError(f"bestand is geen PDF: de inhoud is {describe(head)}.")
        return
    if suffix in SUPPORTED:
        kind = describe(head)
        if kind != "tekst":
            raise IngestError(f"bestand is geen tekst: de inhoud is {kind} (alleen de extensie is {suffix}).")


def _looks_binary(head: bytes) -> bool:
    sample = head[:8192]
    if b"\x00" in sample:
        return True
    return len(_CONTROL.findall(sample)) > max(8, len(sample) // 50)


def upload_name(name: str) -> str:
    """A plain, safe file name for an upload, or IngestError with the reason.

    Only the last part of a path counts ("../../x.md", "C:\\\\map\\\\x.md" -> "x.md"); unicode is
    normalised (NFC), control and shell-special characters are replaced, leading dots and dashes
    ("-rf.md", ".verborgen.md") removed, and the stem kept short.
    """
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, suffix = base.rpartition(".")
    if not dot or "." + suffix.lower() not in SUPPORTED:
        raise IngestError("alleen PDF-, Markdown-, tekst- of HTML-bestanden (.pdf, .md, .txt, .html).")
    stem = _NOT_IN_NAMES.sub("_", "".join(ch for ch in stem if unicodedata.category(ch) not in ("Cc", "Cf")))
    stem = re.sub(r"\s+", " ", stem).strip(" .-_")
    while len(stem.encode()) > _MAX_NAME_BYTES:
        stem = stem[:-1].rstrip(" .-_")
    if not stem:
        raise IngestError("de bestandsnaam bevat geen bruikbare tekens; geef het bestand een gewone naam.")
    return f"{stem}.{suffix.lower()}"


def save_upload(corpus_dir: Path, name: str, data: bytes, max_file_mb: float) -> Path:
    """Check an uploaded file (name, size, content) and write it into the corpus folder, atomically.

    Returns the path it was saved at, which always lies directly inside `corpus_dir`. Raises
    IngestError with a Dutch reason for a file that may not enter the corpus.
    """
    safe = upload_name(name)
    check_size(len(data), max_file_mb)
    check_content(Path(safe).suffix, data[:8192])
    folder = corpus_dir.resolve()
    target = (folder / safe).resolve()
    if target.parent != folder:  # cannot happen after upload_name; a last guard, cheap
        raise IngestError("een upload kan alleen in de corpusmap terechtkomen.")
    # A hidden temporary name: an ingest running meanwhile never reads half an upload.
    tmp = folder / f".upload-{os.getpid()}-{threading.get_ident()}{Path(safe).suffix}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        raise storage_error(exc, folder, safe) or exc
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return target
