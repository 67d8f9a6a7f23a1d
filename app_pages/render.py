"""Safe HTML for answers, passages and titles: their text is escaped, only our own markup is live.

Text taken from a document (or typed by a user) never goes through Streamlit's Markdown. Even escaped,
Markdown there turns "Leerkr@cht.net" into a mailto link, a URL into a link and " -- " into a dash. HTML
that `st.html` shows is not Markdown: escaped text stays exactly the text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

# Every character that Markdown, Streamlit directives (:color[...]), emoji codes or LaTeX could act on.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&\"'])")
_MARKER = re.compile(r"\[(\d+)\]")


def escape_markdown(text: str) -> str:
    """Our own short texts in Markdown (labels, filter names): no emphasis, HTML or directives."""
    return _SPECIAL.sub(r"\\\1", text)


def text_html(text: str) -> str:
    """Plain text as HTML: escaped; line breaks are kept by the stylesheet (white-space: pre-line)."""
    return html.escape(text, quote=False)


def badge_html(n: int | str) -> str:
    """A source number as a badge; a screen reader hears "bron 1", not a bare "1"."""
    return f'<span class="vp-badge"><span class="vp-sr-only">bron </span>{html.escape(str(n))}</span>'


def block_html(inner: str, kind: str) -> str:
    """Wrap inline HTML in one of the stylesheet's blocks (vp-text, vp-caption, vp-card-title, …)."""
    return f'<div class="vp-text {kind}">{inner}</div>'


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def answer_html(text: str, direct: Sequence[tuple[int, int]] = ()) -> str:
    """An answer as HTML: `[n]` markers become numbered badges, the direct-answer spans are bold
    (emphasis that does not rely on colour), everything else is escaped text."""
    bold = sorted((s, e) for s, e in direct if 0 <= s < e <= len(text))
    out: list[str] = []
    pos = 0
    for start, end in bold:
        if start < pos:
            continue
        out.append(_inline(text[pos:start]))
        out.append(f"<strong>{_inline(text[start:end])}</strong>")
        pos = end
    out.append(_inline(text[pos:]))
    return block_html("".join(out), "vp-answer")


def _inline(text: str) -> str:
    """Escaped text with badges for [n]."""
    out: list[str] = []
    pos = 0
    for match in _MARKER.finditer(text):
        out.append(text_html(text[pos : match.start()]))
        out.append(badge_html(match.group(1)))
        pos = match.end()
    out.append(text_html(text[pos:]))
    return "".join(out)


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


def passage_html(text: str, sentences: Sequence[str] = ()) -> str:
    """A passage as HTML with the answering sentences marked (background and underline, so the mark
    does not rely on colour alone) and line breaks kept."""
    out = [
        f'<mark class="vp-cited">{text_html(piece)}</mark>' if cited else text_html(piece)
        for piece, cited in passage_spans(text, sentences)
    ]
    return block_html("".join(out), "vp-passage")
