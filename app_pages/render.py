"""Safe Markdown for answers and passages: document text is escaped, only our own markup is live."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Every character that Markdown, Streamlit directives (:color[...]), emoji codes or LaTeX could act on.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&\"'])")
_MARKER = re.compile(r"\[(\d+)\]")


def escape_markdown(text: str) -> str:
    """Text that Streamlit's Markdown shows literally: no links, HTML, emphasis or directives."""
    return _SPECIAL.sub(r"\\\1", text)


def marker_badge(n: int | str) -> str:
    return f":blue-badge[{n}]"


def answer_markdown(text: str, direct: Sequence[tuple[int, int]] = ()) -> str:
    """An answer as safe Markdown: `[n]` markers become numbered badges, the direct-answer spans are
    bold (emphasis that does not rely on colour), line breaks are kept and the rest is escaped."""
    bold = sorted((s, e) for s, e in direct if 0 <= s < e <= len(text))
    out: list[str] = []
    pos = 0
    for start, end in bold:
        if start < pos:
            continue
        out.append(_plain(text[pos:start]))
        out.append("".join(f"**{line.strip()}**" if line.strip() else line for line in _lines(_plain(text[start:end]))))
        pos = end
    out.append(_plain(text[pos:]))
    return "".join(out)


def _plain(text: str) -> str:
    """Escaped text with badges for [n] and Markdown line breaks for newlines."""
    out: list[str] = []
    pos = 0
    for match in _MARKER.finditer(text):
        out.append(escape_markdown(text[pos : match.start()]))
        out.append(marker_badge(match.group(1)))
        pos = match.end()
    out.append(escape_markdown(text[pos:]))
    return "".join(out).replace("\n", "  \n")


def _lines(text: str) -> list[str]:
    """Split on Markdown line breaks, keeping them, so emphasis never crosses one."""
    return re.split(r"(  \n)", text)


def _sentence_pattern(sentence: str) -> re.Pattern[str] | None:
    words = sentence.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def passage_spans(text: str, sentences: Sequence[str]) -> list[tuple[str, bool]]:
    """The passage cut into (piece, is_cited) parts; cited sentences are matched whitespace-insensitively."""
    marks: list[tuple[int, int]] = []
    for sentence in sentences:
        pattern = _sentence_pattern(sentence)
        match = pattern.search(text) if pattern else None
        if match:
            marks.append((match.start(), match.end()))
    marks.sort()
    parts: list[tuple[str, bool]] = []
    pos = 0
    for start, end in marks:
        if start < pos:  # overlapping matches: extend the previous highlight
            start = pos
        if start > pos:
            parts.append((text[pos:start], False))
        if end > start:
            parts.append((text[start:end], True))
        pos = max(pos, end)
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts


def passage_markdown(text: str, sentences: Sequence[str] = ()) -> str:
    """A passage as Markdown with the answering sentences highlighted and line breaks kept."""
    out: list[str] = []
    for piece, cited in passage_spans(text, sentences):
        lines = [escape_markdown(line) for line in piece.split("\n")]
        if cited:
            # A highlight cannot cross a line break; highlight each line of the sentence.
            lines = [f":orange-background[{line}]" if line.strip() else line for line in lines]
        out.append("  \n".join(lines))
    return "".join(out)
