"""The plain data passed between stages: ingest -> retrieval -> app/CLI. Defined once, here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    """One page (or the whole text for non-paginated files) after cleaning."""

    number: int
    text: str


@dataclass(frozen=True)
class Block:
    """A structural unit of a page: a heading, a question or a paragraph."""

    kind: str  # "heading" | "question" | "paragraph"
    text: str
    page: int
    start: int  # character offsets in the cleaned page text
    end: int
    level: int = 0  # heading depth, 1 = top
    answers: str = ""  # for an answer typeset away from its question: the question(s) it answers


@dataclass
class Document:
    """A loaded source file with its manifest metadata."""

    source: str  # path relative to the corpus directory, with forward slashes
    title: str
    kind: str  # faq | report | webpage
    blocks: list[Block]
    pages: list[Page]
    audience: str = ""
    date: str = ""
    url: str = ""
    sha256: str = ""


@dataclass(frozen=True, slots=True)  # one per passage, ~90,000 at 100x the corpus
class Chunk:
    """A retrievable passage with everything needed to cite it."""

    id: str
    source: str
    title: str
    kind: str
    text: str
    page_start: int
    page_end: int
    section: str = ""
    question: str = ""  # FAQ question this chunk answers, if any
    char_start: int = 0  # offset in the text of page_start
    char_end: int = 0  # offset in the text of page_end
    ordinal: int = 0  # position in the document
    url: str = ""

    @property
    def page_label(self) -> str:
        if self.page_start <= 0:
            return ""
        if self.page_end > self.page_start:
            return f"p. {self.page_start}-{self.page_end}"
        return f"p. {self.page_start}"

    def context_text(self) -> str:
        """Text with its document title and section prepended, for embedding and lexical indexing."""
        head = self.title
        if self.section:
            head += " — " + self.section
        parts = [head]
        if self.question and not self.text.startswith(self.question):
            parts.append(self.question)
        parts.append(self.text)
        return "\n".join(parts)


@dataclass(frozen=True)
class Hit:
    """A chunk returned by search, with its fused score and the ranks that produced it."""

    chunk: Chunk
    score: float
    rank: int
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_score: float = 0.0  # cosine similarity of the best vector of this chunk that was searched
    lexical_score: float = 0.0  # BM25 score


@dataclass(frozen=True)
class Citation:
    """A numbered source under an answer."""

    n: int
    hit: Hit
    sentences: tuple[str, ...] = ()  # sentences of the passage used in the answer


@dataclass
class Answer:
    """What the user gets back for one question: the text, its evidence, and how sure the answer step is."""

    question: str
    standalone_question: str
    text: str
    refused: bool
    mode: str  # "extractive" | "llm"
    citations: list[Citation] = field(default_factory=list)
    notice: str = ""  # e.g. LLM fell back to extractive
    timings_ms: dict[str, float] = field(default_factory=dict)
    direct: tuple[tuple[int, int], ...] = ()  # character spans in `text` of the sentences that answer directly
    answerability: float | None = None  # calibrated probability that the documents answer the question
    uncertain: bool = False  # answered, but the documents may well not say this (see AnswerabilityModel.doubt)
    hits: tuple[Hit, ...] = ()  # the passages the answer step was given, best first

    @property
    def direct_sentences(self) -> list[str]:
        return [self.text[start:end] for start, end in self.direct]


def hit_to_dict(hit: Hit, rank: int | None = None) -> dict:
    """A hit in the CLI's JSON contract."""
    c = hit.chunk
    return {
        "rank": hit.rank if rank is None else rank,
        "source": c.source,
        "title": c.title,
        "kind": c.kind,
        "page": c.page_start or None,
        "page_end": c.page_end or None,
        "section": c.section,
        "text": c.text,
        "score": round(hit.score, 6),
    }


def answer_to_dict(answer: Answer, id: str | None = None) -> dict:
    """An answer in the `vraagpunt ask --json` contract."""
    citations = []
    for citation in answer.citations:
        item = hit_to_dict(citation.hit)
        item.pop("rank")
        citations.append({"n": citation.n, **item, "sentences": list(citation.sentences)})
    out = {
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "direct_answer": answer.direct_sentences,
        "refused": answer.refused,
        "uncertain": answer.uncertain,
        "answerability": None if answer.answerability is None else round(answer.answerability, 4),
        "mode": answer.mode,
        "citations": citations,
        "notice": answer.notice,
        "timings_ms": answer.timings_ms,
    }
    return {"id": id, **out} if id is not None else out
