"""Structure-aware chunking: questions stay with their answers, headings start sections."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ingest.textclean import LINK, split_sentences
from vraagpunt.types import Block, Chunk, Document

MIN_UNIT = 40


def sentence_units(chunk: Chunk) -> list[str]:
    """The sentences of a chunk as answer units: short ones ("Dit kan beiden.") join the next sentence.

    The FAQ question line is left out: it answers nothing. Shared by indexing and answering, so the
    stored sentence vectors match the units an answer is built from.
    """
    return [text for _, text in sentence_lines(chunk)]


def sentence_lines(chunk: Chunk) -> list[tuple[int, str]]:
    """`sentence_units` with, for each unit, the index of the line of `chunk.text` it comes from."""
    units: list[tuple[int, str]] = []
    for number, line in enumerate(chunk.text.split("\n")):
        if not line.strip() or line == chunk.question:
            continue
        pending = ""
        for sentence in split_sentences(line):
            if LINK.fullmatch(sentence):  # a link is no sentence fragment: it joins nothing
                units.extend((number, u) for u in (pending, sentence) if u)
                pending = ""
                continue
            text = f"{pending} {sentence}".strip() if pending else sentence
            if len(text) < MIN_UNIT:
                pending = text
            else:
                units.append((number, text))
                pending = ""
        if pending:
            if units and len(pending) < MIN_UNIT // 2:
                units[-1] = (units[-1][0], f"{units[-1][1]} {pending}")
            else:
                units.append((number, pending))
    return units


@dataclass
class _Piece:
    text: str
    page: int
    start: int
    end: int


@dataclass
class _Draft:
    section: str
    question: str = ""
    pieces: list[_Piece] = field(default_factory=list)

    def size(self) -> int:
        return sum(len(p.text) + 1 for p in self.pieces)


def chunk_document(doc: Document, *, size: int, overlap: int) -> list[Chunk]:
    """Cut a document into chunks of about `size` characters.

    A question and the paragraphs that answer it form one chunk (split with the question kept as
    context when the answer is long); headings close the running chunk and name the section.
    """
    drafts: list[_Draft] = []
    headings: dict[int, str] = {}
    current = _Draft(section="")

    def section() -> str:
        return " > ".join(headings[k] for k in sorted(headings))

    def flush() -> None:
        nonlocal current
        if current.pieces:
            drafts.append(current)
        current = _Draft(section=section())

    for block in doc.blocks:
        if block.kind == "heading":
            flush()
            level = max(1, block.level)
            for deeper in [k for k in headings if k >= level]:
                del headings[deeper]
            headings[level] = block.text
            current = _Draft(section=section())
            if block.text.endswith("?"):  # a web FAQ's heading is the question its section answers
                current.question = block.text
            continue
        if block.kind == "question":
            flush()
            current.question = block.text
            current.pieces.append(_Piece(block.text, block.page, block.start, block.end))
            continue
        if block.answers:  # a numbered answer: a new Q&A whose question stands elsewhere
            flush()
            current.question = block.answers
        for piece in _pieces(block, size):
            if current.pieces and current.size() + len(piece.text) > size and _has_body(current):
                carried = _tail(current, overlap)
                question = current.question
                flush()
                current.question = question
                current.pieces.extend(carried)
            current.pieces.append(piece)
    flush()
    return [_to_chunk(doc, d, i) for i, d in enumerate(drafts)]


def _has_body(draft: _Draft) -> bool:
    return any(p.text != draft.question for p in draft.pieces)


def _pieces(block: Block, size: int) -> list[_Piece]:
    """A block as one piece, or as sentence groups when it is longer than a chunk."""
    if len(block.text) <= size:
        return [_Piece(block.text, block.page, block.start, block.end)]
    pieces: list[_Piece] = []
    cursor = 0
    group: list[str] = []
    group_start = 0
    for sentence in split_sentences(block.text):
        at = block.text.find(sentence, cursor)
        at = cursor if at < 0 else at
        if group and sum(len(s) + 1 for s in group) + len(sentence) > size:
            text = " ".join(group)
            pieces.append(_Piece(text, block.page, block.start + group_start, block.start + group_start + len(text)))
            group = []
        if not group:
            group_start = at
        group.append(sentence)
        cursor = at + len(sentence)
    if group:
        text = " ".join(group)
        pieces.append(_Piece(text, block.page, block.start + group_start, block.start + group_start + len(text)))
    return pieces


def _tail(draft: _Draft, overlap: int) -> list[_Piece]:
    """The last sentences of a chunk (at most `overlap` characters) to repeat at the start of the next."""
    if overlap <= 0 or not draft.pieces:
        return []
    last = draft.pieces[-1]
    if last.text == draft.question:
        return []
    sentences = split_sentences(last.text)
    kept: list[str] = []
    for sentence in reversed(sentences[1:]):
        if sum(len(s) + 1 for s in kept) + len(sentence) > overlap:
            break
        kept.insert(0, sentence)
    if not kept:
        return []
    text = " ".join(kept)
    start = last.start + max(0, last.text.rfind(kept[0]))
    return [_Piece(text, last.page, start, start + len(text))]


def _to_chunk(doc: Document, draft: _Draft, ordinal: int) -> Chunk:
    text = "\n".join(p.text for p in draft.pieces)
    first, last = draft.pieces[0], draft.pieces[-1]
    # Everything that goes into the embedded text is in the id, so an unchanged id means an unchanged vector.
    key = "\x00".join([doc.source, f"{first.page}:{first.start}", doc.title, draft.section, draft.question, text])
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return Chunk(
        id=digest,
        source=doc.source,
        title=doc.title,
        kind=doc.kind,
        text=text,
        page_start=first.page,
        page_end=last.page,
        section=draft.section,
        question=draft.question,
        char_start=first.start,
        char_end=last.end,
        ordinal=ordinal,
        url=doc.url,
    )
