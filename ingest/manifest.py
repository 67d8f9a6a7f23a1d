"""The optional corpus manifest (corpus/manifest.toml): title, kind, audience, date and URL per file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from vraagpunt.errors import ConfigError

MANIFEST_NAME = "manifest.toml"
KINDS = ("faq", "report", "webpage")


@dataclass(frozen=True)
class DocumentInfo:
    title: str = ""
    kind: str = ""  # empty: guessed from the file
    audience: str = ""
    date: str = ""
    url: str = ""


def read_manifest(corpus_dir: Path) -> dict[str, DocumentInfo]:
    """Entries keyed by path relative to the corpus directory; a missing manifest is an empty one."""
    path = corpus_dir / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is geen geldige TOML ({exc}); verbeter of verwijder het bestand.") from exc
    entries: dict[str, DocumentInfo] = {}
    for name, raw in (data.get("documents") or {}).items():
        kind = str(raw.get("kind", ""))
        if kind and kind not in KINDS:
            raise ConfigError(f"{path}: kind={kind!r} voor {name} is ongeldig; kies uit {', '.join(KINDS)}.")
        entries[name] = DocumentInfo(
            title=str(raw.get("title", "")),
            kind=kind,
            audience=str(raw.get("audience", "")),
            date=str(raw.get("date", "")),
            url=str(raw.get("url", "")),
        )
    return entries
