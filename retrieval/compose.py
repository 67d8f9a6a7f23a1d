"""Turning chosen passages into an Answer, and the calm refusal. Shared by every answerer.

An answer quotes one or two passages (or, in LLM mode, the model's text) and cites each as [n].
The sentences that answer most directly are marked by their character offsets in the answer text, so
the app can emphasise them and the JSON contract can list them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.query import Query
from vraagpunt.types import Answer, Citation, Hit

NOT_FOUND = "Dat vind ik niet in de documenten van Leerpunt."


@dataclass(frozen=True)
class Piece:
    """What an answer quotes from one passage: consecutive sentences, some of them the direct answer."""

    hit: Hit
    sentences: tuple[str, ...]
    direct: tuple[int, ...] = ()  # indices into `sentences`
    lines: tuple[int, ...] = ()  # the passage line of each sentence (a new line starts a new paragraph)


def compose(query: Query, pieces: Sequence[Piece], *, mode: str, answerability: float | None = None) -> Answer:
    """Quote the pieces in order, each closed by its source number; record where the direct sentences are."""
    numbers: dict[str, int] = {}
    hits: dict[str, Hit] = {}
    used: dict[str, list[str]] = {}
    text = ""
    direct: list[tuple[int, int]] = []
    for piece in pieces:
        cid = piece.hit.chunk.id
        n = numbers.setdefault(cid, len(numbers) + 1)
        hits[cid] = piece.hit
        used.setdefault(cid, []).extend(piece.sentences)
        for i, sentence in enumerate(piece.sentences):
            if text:
                same_line = i > 0 and piece.lines and piece.lines[i] == piece.lines[i - 1]
                text += " " if same_line or not piece.lines else "\n"
            start = len(text)
            text += sentence
            if i in piece.direct:
                direct.append((start, len(text)))
        text += f" [{n}]"
    citations = [Citation(n=numbers[cid], hit=hits[cid], sentences=tuple(used[cid])) for cid in numbers]
    return Answer(
        question=query.own_words, standalone_question=query.display, text=text, refused=False, mode=mode,
        citations=citations, direct=tuple(direct), answerability=answerability,
    )


def refusal(query: Query, related: Sequence[Hit] = (), notice: str = "", *, mode: str = "extractive",
            answerability: float | None = None) -> Answer:
    """The calm 'not in the documents' answer; `related` passages are offered as possibly relevant."""
    citations = [Citation(n=i, hit=h) for i, h in enumerate(related[:3], start=1)]
    return Answer(
        question=query.own_words, standalone_question=query.display, text=NOT_FOUND, refused=True, mode=mode,
        citations=citations, notice=notice, answerability=answerability,
    )
