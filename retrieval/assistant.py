"""The retrieval stage's front door: a question (and history) in, an Answer with citations out."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from retrieval.compose import refusal
from retrieval.extractive import ExtractiveAnswerer
from retrieval.query import Query, read_question
from retrieval.search import SearchFilter, Searcher
from vraagpunt.embedding import make_embedder
from vraagpunt.index import open_index
from vraagpunt.settings import Settings
from vraagpunt.types import Answer

EMPTY_QUESTION = "Stel gerust een vraag over de documenten van Leerpunt, bijvoorbeeld: wat is een begeleidingsproject?"
TRUNCATED = "Je vraag was erg lang; ik heb alleen het begin ervan gebruikt."
# Passages retrieved per question: the answer step reads the first `top_k`, the evaluation all of them.
RETRIEVE_K = 10


class AnswerGenerator(Protocol):
    """Composes an answer for a Query from hits. `stream` yields text pieces and, last, the Answer.

    The final Answer is the truth: a fallback may replace text that was already streamed. A generator
    may also offer `read_question(question, history) -> Query` to read follow-ups its own way.
    """

    mode: str

    def stream(self, query: Query, hits: Sequence) -> Iterator[str | Answer]: ...

    def answer(self, query: Query, hits: Sequence) -> Answer: ...


class Assistant:
    """Reads the question, searches, and composes a cited answer. Shared safely across app sessions."""

    def __init__(self, settings: Settings, searcher: Searcher, generator: AnswerGenerator) -> None:
        self.settings = settings
        self.searcher = searcher
        self.generator = generator

    def ask(self, question: str, history: Sequence[dict] = (), filter: SearchFilter | None = None) -> Answer:
        answer: Answer | None = None
        for item in self.stream(question, history, filter):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def read(self, question: str, history: Sequence[dict] = ()) -> Query:
        """The question as the answer step reads it: own words (cut to the limit), follow-up or not."""
        cleaned = " ".join((question or "").split())[: self.settings.max_question_chars]
        custom = getattr(self.generator, "read_question", None)  # the LLM answerer rewrites itself
        if custom is not None:
            return custom(cleaned, history)
        return read_question(cleaned, usable_history(history, self.settings.max_question_chars),
                             self.searcher.snapshot().vocabulary)

    def stream(
        self, question: str, history: Sequence[dict] = (), filter: SearchFilter | None = None
    ) -> Iterator[str | Answer]:
        """Yield the answer text as it is produced, then the complete Answer, all from one index generation."""
        with self.searcher.pinned():
            yield from self._stream(question, usable_history(history, self.settings.max_question_chars), filter)

    def _stream(self, question: str, history: list[dict], filter: SearchFilter | None) -> Iterator[str | Answer]:
        started = time.perf_counter()
        cleaned = " ".join((question or "").split())
        if not cleaned or not any(ch.isalnum() for ch in cleaned):
            answer = Answer(question=question, standalone_question="", text=EMPTY_QUESTION, refused=True,
                            mode=self.generator.mode)
            yield answer.text
            yield answer
            return
        notice = TRUNCATED if len(cleaned) > self.settings.max_question_chars else ""
        query = self.read(cleaned, history)
        hits = self.searcher.search(query.text, k=max(RETRIEVE_K, self.settings.top_k), filter=filter)
        retrieved = time.perf_counter()
        if not hits:
            answer = refusal(query)
        else:
            answer = None
            for item in self.generator.stream(query, hits[: self.settings.top_k]):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
            assert answer is not None
        answer.question = question
        answer.standalone_question = query.display
        answer.hits = tuple(hits)
        answer.notice = " ".join(n for n in (notice, answer.notice) if n)
        done = time.perf_counter()
        answer.timings_ms = {
            "retrieve": round((retrieved - started) * 1000, 1),
            "answer": round((done - retrieved) * 1000, 1),
            "total": round((done - started) * 1000, 1),
        }
        if not hits:
            yield answer.text
        yield answer


def usable_history(history: object, limit: int) -> list[dict]:
    """The turns a follow-up may lean on: user or assistant turns with text, each cut to `limit` characters.

    History comes from clients (the app's session, `--questions` files); a malformed turn is left out,
    never an error, and a huge one cannot make the rewritten question huge.
    """
    try:
        turns = list(history) if history is not None else []
    except TypeError:
        return []
    return [
        {"role": t["role"], "content": t["content"][:limit]}
        for t in turns
        if isinstance(t, Mapping) and t.get("role") in ("user", "assistant")
        and isinstance(t.get("content"), str) and t["content"].strip()
    ]


def make_generator(settings: Settings, searcher: Searcher) -> AnswerGenerator:
    """The answerer the settings ask for; the LLM one falls back to extractive on its own."""
    extractive = ExtractiveAnswerer(settings, searcher)
    if settings.answerer == "llm":
        from retrieval.llm import LLMAnswerer

        return LLMAnswerer(settings, searcher, fallback=extractive)
    return extractive


def make_assistant(settings: Settings) -> Assistant:
    """Build embedder, index client, searcher and answerer from settings (entry points call this once)."""
    searcher = Searcher(settings, open_index(settings), make_embedder(settings))
    return Assistant(settings, searcher, make_generator(settings, searcher))
