"""Turn paragraphs of running text into typed blocks: headings, questions and paragraphs."""

from __future__ import annotations

import re

from ingest.textclean import join_lines, split_sentences
from vraagpunt.types import Block, Page

_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\s*(?:/|\.)?\s+([A-ZÀ-Ý][^.!?]{2,90})$")
_TRAILING_HEADING = re.compile(r"^(.*[.)])\s+(\d{1,2}(?:\.\d{1,2})* / [A-ZÀ-Ý][^.!?]{2,90})$", re.S)
_CAPTION = re.compile(r"^(figuur|tabel|bron|grafiek|bijlage \d|noot)\b", re.IGNORECASE)
_SENTENCE_END = (".", ",", ";", ":", "!", "”", "\"")


def classify(paragraphs: list[tuple[int, str]], *, faq: bool) -> tuple[list[Page], list[Block]]:
    """Build page texts and blocks from (page number, raw paragraph) pairs in reading order.

    A paragraph is a question when it ends with "?" and is short; a heading when it is a short line
    without closing punctuation that introduces a longer paragraph, or a numbered "2 / Titel".
    """
    items: list[tuple[int, str]] = []
    for page, raw in paragraphs:
        text = join_lines(raw)
        if not text:
            continue
        m = _TRAILING_HEADING.match(text)
        if m:  # a heading typeset on the last line of the previous paragraph
            items.append((page, m.group(1)))
            items.append((page, m.group(2)))
        elif items and _is_question(items[-1][1]) and text.endswith("?"):
            # An answer that runs into the next question without a paragraph gap: split them.
            answer, question = _split_trailing_question(text)
            items.extend((page, part) for part in (answer, question) if part)
        else:
            items.append((page, text))

    page_parts: dict[int, list[str]] = {}
    page_len: dict[int, int] = {}
    blocks: list[Block] = []
    for i, (page, text) in enumerate(items):
        nxt = items[i + 1][1] if i + 1 < len(items) else ""
        kind, level = _kind_of(text, nxt, faq)
        start = page_len.get(page, 0)
        if page in page_parts:
            start += 2  # "\n\n" separator
        page_parts.setdefault(page, []).append(text)
        page_len[page] = start + len(text)
        blocks.append(Block(kind=kind, text=text, page=page, start=start, end=start + len(text), level=level))
    pages = [Page(number=p, text="\n\n".join(parts)) for p, parts in sorted(page_parts.items())]
    return pages, blocks


def _is_question(text: str) -> bool:
    return text.endswith("?") and len(text) <= 320


def _split_trailing_question(text: str) -> tuple[str, str]:
    """("answer sentences", "trailing question sentences") of a paragraph that ends with a question."""
    sentences = split_sentences(text)
    cut = len(sentences)
    while cut > 0 and sentences[cut - 1].endswith("?"):
        cut -= 1
    return " ".join(sentences[:cut]), " ".join(sentences[cut:])


def _kind_of(text: str, following: str, faq: bool) -> tuple[str, int]:
    if _is_question(text):
        return "question", 0
    m = _NUMBERED_HEADING.match(text)
    if m and len(text) <= 90 and len(following) > len(text):
        return "heading", m.group(1).count(".") + 1
    if (
        len(text) <= 90
        and not text.endswith(_SENTENCE_END)
        and (text[0].isupper() or text[0].isdigit())
        and len(text.split()) <= 12
        and not _CAPTION.match(text)
        and len(following) >= 120
        and not faq
    ):
        return "heading", 2
    return "paragraph", 0
