"""Text normalisation shared by the loaders: spaces, hyphenation, paragraphs."""

from __future__ import annotations

import re
import unicodedata

from vraagpunt.dutch import ABBREVIATION_END, SUSPENDED_COMPOUND_JOINERS

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f]+")
# A word broken at a line end: "ontwik-\nkeling". Not a suspended compound ("vracht- en", "in- of"),
# where the next line starts with a conjunction or a comma-continued list.
_JOINERS = "|".join(SUSPENDED_COMPOUND_JOINERS)
_LINE_HYPHEN = re.compile(rf"(\w)-\n(?!(?:{_JOINERS}|als|dan)\b)([a-zà-ÿ])")
_SUSPENDED_NEWLINE = re.compile(rf"(\w-)\n(?=(?:{_JOINERS})\b)")


def normalize_spaces(text: str) -> str:
    """Collapse justified-text runs of spaces and odd Unicode spaces; keep newlines."""
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines)


def dehyphenate(text: str) -> str:
    """Join words split across lines, keeping Dutch suspended compounds ("vracht- en verzendkosten")."""
    text = _SUSPENDED_NEWLINE.sub(r"\1 ", text)
    return _LINE_HYPHEN.sub(r"\1\2", text)


def join_lines(text: str) -> str:
    """Turn the lines of one paragraph into running text."""
    return re.sub(r"\s*\n\s*", " ", dehyphenate(text)).strip()


def squash(text: str) -> str:
    """Whitespace-insensitive, punctuation-insensitive form for comparing passages."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u00ad", "")
    return re.sub(r"[^0-9a-zà-ÿ%€]+", "", text)


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý0-9“‘\"(])")
LINK = re.compile(r"(?:https?://|www\.)\S+")
# A bare link ends its line: "…/7-valorisatieproducten-2024 Als je op een onderzoeksproject …" is two units.
_AFTER_LINK = re.compile(rf"({LINK.pattern})\s+(?=[A-ZÀ-Ý])")


def split_sentences(text: str) -> list[str]:
    """Split Dutch running text into sentences, keeping abbreviations like "bv." mostly intact."""
    pieces = (piece for part in _SENTENCE_SPLIT.split(_AFTER_LINK.sub("\\1\x00", text)) for piece in part.split("\x00"))
    parts = [p.strip() for p in pieces if p.strip()]
    merged: list[str] = []
    for part in parts:
        if merged and ABBREVIATION_END.search(merged[-1]):
            merged[-1] += " " + part
        else:
            merged.append(part)
    return merged
