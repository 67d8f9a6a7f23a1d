"""Turn paragraphs of running text into typed blocks: headings, questions and paragraphs."""

from __future__ import annotations

import re
from dataclasses import replace

from ingest.textclean import join_lines, split_sentences
from vraagpunt.dutch import CAPTION_START, QUESTION_OPENING_VERBS
from vraagpunt.types import Block, Page

_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\s*(?:/|\.)?\s+([A-ZÀ-Ý][^.!?]{2,90})$")
_TRAILING_HEADING = re.compile(r"^(.*[.)])\s+(\d{1,2}(?:\.\d{1,2})* / [A-ZÀ-Ý][^.!?]{2,90})$", re.S)
_CAPTION = CAPTION_START
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
        if faq and items and _continues_question(items[-1], page, text):
            # A question broken by a page break: its start is the unfinished sentence on the page before.
            prev_page, prev = items.pop()
            head, tail = _split_unfinished(prev)
            if head:
                items.append((prev_page, head))
            text = f"{tail} {text}".strip()
        elif items and _continues_paragraph(items[-1][1], text):
            # A sentence cut by a page break or a wide line gap ("De randvoorwaarden moeten" /
            # "met elkaar in balans zijn …"): one paragraph again, cited from the page it starts on.
            page, prev = items.pop()
            text = f"{prev} {text}"
        m = _TRAILING_HEADING.match(text)
        after_question = bool(items) and _is_question(items[-1][1])
        if m:  # a heading typeset on the last line of the previous paragraph
            items.append((page, m.group(1)))
            items.append((page, m.group(2)))
        elif text.endswith("?") and (after_question or (faq and not _is_question(text))):
            # An answer that runs into the next question without a paragraph gap: split them.
            answer, question = _split_trailing_question(text)
            items.extend((page, part) for part in (answer, question) if part)
        elif faq and items and not after_question and (split := _split_leading_question(text)):
            # A question typeset as the first sentences of its answer's paragraph.
            items.extend((page, part) for part in split)
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
    if faq:
        _link_numbered_answers(blocks)
    pages = [Page(number=p, text="\n\n".join(parts)) for p, parts in sorted(page_parts.items())]
    return pages, blocks


_NUMBER = re.compile(r"^(\d{1,2})(?:\s*-\s*(\d{1,2}))?\.\s*")


def _link_numbered_answers(blocks: list[Block]) -> None:
    """Numbered questions answered further on ("1-3. …", "4. …"): give each answer its questions.

    A press Q&A can list its questions 1..n first (each after a numbered context line) and answer
    them later under the same numbers. The answer paragraph then carries the question text(s) in
    `answers`, so its chunk is indexed under its question like an answer that follows its question.
    """
    asked: dict[int, int] = {}  # question number -> index of its question block
    answered: set[int] = set()
    for i, block in enumerate(blocks):
        m = _NUMBER.match(block.text)
        if not m:
            continue
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if first not in asked and following is not None and following.kind == "question":
            asked[first] = i + 1
        elif block.kind == "paragraph" and all(n in asked for n in range(first, last + 1)):
            numbers = range(first, last + 1)
            blocks[i] = replace(block, answers=" ".join(blocks[asked[n]].text for n in numbers))
            answered.update(asked[n] for n in numbers)
    for i in answered:  # the list of questions is running text now: its answers carry the questions
        blocks[i] = replace(blocks[i], kind="paragraph")


def _is_question(text: str) -> bool:
    return text.endswith("?") and len(text) <= 320


def _continues_question(previous: tuple[int, str], page: int, text: str) -> bool:
    """A paragraph that opens a page in lower case and ends a question continues the page before."""
    prev_page, prev = previous
    return page > prev_page and text[:1].islower() and text.endswith("?") and not prev.endswith(_SENTENCE_END + ("?",))


def _continues_paragraph(previous: str, text: str) -> bool:
    """A paragraph that starts in lower case after one that stops mid-sentence carries on that sentence."""
    return text[:1].islower() and not previous.endswith(_PARAGRAPH_END) and not _is_question(text)


# What a finished paragraph ends with. Not a comma: "netwerk zowel binnen als buiten de school, netten," goes on.
_PARAGRAPH_END = (".", ";", ":", "!", "?", ")", "”", "\"", "’", "'")


def _split_unfinished(text: str) -> tuple[str, str]:
    """("finished sentences", "unfinished last sentence") of a paragraph cut off by a page break."""
    sentences = split_sentences(text)
    return " ".join(sentences[:-1]), sentences[-1] if sentences else ""


def _split_leading_question(text: str) -> tuple[str, str] | None:
    """("question", "answer") when a paragraph opens with a question and goes on with its answer.

    The question is the run of sentences up to the last "?" within the first 320 characters; what
    follows must be plain answer text (no further questions) of some length.
    """
    sentences = split_sentences(text)
    cut = 0
    length = -1  # joined with single spaces
    for i, sentence in enumerate(sentences):
        length += len(sentence) + 1
        if length > 320:
            break
        if sentence.endswith("?"):
            cut = i + 1
    rest = sentences[cut:]
    if not cut or not rest or any(s.endswith("?") for s in rest) or len(" ".join(rest)) < 80:
        return None
    return " ".join(sentences[:cut]), " ".join(rest)


def _split_trailing_question(text: str) -> tuple[str, str]:
    """("answer sentences", "trailing question sentences") of a paragraph that ends with a question."""
    sentences = split_sentences(text)
    cut = len(sentences)
    while cut > 0 and sentences[cut - 1].endswith("?"):
        cut -= 1
    return " ".join(sentences[:cut]), " ".join(sentences[cut:])


# "Komt het volgende in aanmerking: <the case>": a question that sets out its case after a colon
# instead of ending in "?". Only in FAQ documents, and only when it opens with the inverted verb.
_POSED_QUESTION = re.compile(rf"^(?:{'|'.join(QUESTION_OPENING_VERBS)})\s[^.:?!]{{3,60}}:\s+\S")


def _kind_of(text: str, following: str, faq: bool) -> tuple[str, int]:
    if _is_question(text) or (faq and len(text) <= 500 and _POSED_QUESTION.match(text) and not _is_question(following)):
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
