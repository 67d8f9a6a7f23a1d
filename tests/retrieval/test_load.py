"""Many teachers at once: 50 sessions of 10 questions, each with its own follow-up history and filter,
against the one Assistant that the app caches for all its sessions (on the small generated corpus).

Each concurrent run is compared with the same sessions asked one at a time by a separate Assistant.
"""

from __future__ import annotations

import itertools
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from retrieval.assistant import make_assistant
from retrieval.search import SearchFilter
from tests.school import CONVERSATIONS

pytestmark = pytest.mark.slow

SESSIONS = 50
FILTERS = [SearchFilter(), SearchFilter(kinds=("faq",)), SearchFilter(kinds=("report",)), SearchFilter(kinds=("webpage",))]
# 500 different questions for 50 sessions: no session is helped by a query vector another one computed.
DISTINCT = [
    f"{ask} {topic} {extra}?"
    for ask, topic, extra in itertools.product(
        ("Wanneer is", "Hoeveel kost", "Waar is", "Hoe laat begint", "Wie regelt"),
        ("het schoolfruit", "de zwemles", "de bibliotheek", "de fietsenstalling", "het oudercontact",
         "het zwembad", "de fietshelm", "de klasleraar", "het secretariaat", "de subsidie"),
        ("voor het derde leerjaar", "op woensdag", "in maart", "voor ouders", "per leerling",
         "op de proefscholen", "na de middag", "in 2027", "met de klas", "voor de leraar"),
    )
]


def conversation_plan(i: int) -> tuple[SearchFilter, list[str]]:
    """Session i's filter and its 10 questions: every conversation (question, follow-up), from its own start."""
    start = i % len(CONVERSATIONS)
    conversations = CONVERSATIONS[start:] + CONVERSATIONS[:start]
    return FILTERS[i % len(FILTERS)], [q for pair in conversations for q in pair]


def distinct_plan(i: int) -> tuple[SearchFilter, list[str]]:
    return SearchFilter(), DISTINCT[i::SESSIONS]


def run_session(assistant, plan) -> list[tuple[tuple, float]]:
    """Ask a session's questions in order, carrying its history as the chat page does."""
    search_filter, questions = plan
    messages: list[dict] = []
    out = []
    for question in questions:
        started = time.perf_counter()
        answer = assistant.ask(question, list(messages), search_filter)
        out.append((_seen(answer), time.perf_counter() - started))
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    return out


def run_all(assistant, plans, concurrently: bool):
    """Every session's results, the errors, and the wall time."""
    started = time.perf_counter()
    if not concurrently:
        return [run_session(assistant, p) for p in plans], [], time.perf_counter() - started
    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        futures = [pool.submit(run_session, assistant, p) for p in plans]
        errors = [f.exception() for f in futures if f.exception() is not None]
        results = [f.result() for f in futures if f.exception() is None]
    return results, errors, time.perf_counter() - started


def _seen(answer) -> tuple:
    """What a user sees of an answer: how the question was read, the text, refusal and the cited passages."""
    cited = tuple((c.hit.chunk.id, c.hit.chunk.kind) for c in answer.citations)
    return answer.standalone_question, answer.text, answer.refused, cited


def _percentiles(results) -> str:
    ms = sorted(t * 1000 for session in results for _, t in session)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms"


@pytest.fixture(scope="module")
def school(tmp_path_factory, embedder):
    from tests.conftest import build_school_index

    return build_school_index(tmp_path_factory.mktemp("load"), embedder)


@pytest.fixture(scope="module")
def app_assistant(school):
    """The Assistant exactly as the app gets it: `resources.assistant(settings)`, one for every session."""
    from app_pages import resources

    return resources.assistant(school)


def _report(figures, label: str, plans, alone, together, errors, wall) -> None:
    questions = sum(len(p[1]) for p in plans)
    figures.append(
        f"Belasting ({label}): {len(plans)} sessies, {questions} vragen, {len(errors)} fouten; "
        f"alleen {_percentiles(alone)}; onder belasting {_percentiles(together)} "
        f"({questions / wall:.0f} vragen/s op {len(os.sched_getaffinity(0))} cores)."
    )


def test_fifty_sessions_with_follow_ups_answer_as_they_would_alone(school, app_assistant, figures):
    plans = [conversation_plan(i) for i in range(SESSIONS)]
    alone, _, _ = run_all(make_assistant(school), plans, concurrently=False)
    together, errors, wall = run_all(app_assistant, plans, concurrently=True)

    assert errors == []
    for i, (by_itself, among_others) in enumerate(zip(alone, together)):
        # Identical answers: no session saw another's history, filter or half-built state.
        assert [seen for seen, _ in among_others] == [seen for seen, _ in by_itself], f"session {i}"
        allowed = plans[i][0].kinds
        assert not allowed or all(kind in allowed for seen, _ in among_others for _, kind in seen[3])
    first = [seen for seen, _ in alone[0]]
    assert sum(not refused for _, _, refused, _ in first) >= 6  # mostly real answers, not refusals
    assert any("(vervolg op:" in standalone for standalone, *_ in first)  # follow-ups lean on their own history
    _report(figures, "dezelfde vragen met vervolgvragen", plans, alone, together, errors, wall)


def test_fifty_sessions_of_distinct_questions(school, app_assistant, figures):
    plans = [distinct_plan(i) for i in range(SESSIONS)]
    assert len({q for _, qs in plans for q in qs}) == SESSIONS * 10
    alone, _, _ = run_all(make_assistant(school), plans, concurrently=False)
    together, errors, wall = run_all(app_assistant, plans, concurrently=True)

    assert errors == []
    assert [[s for s, _ in session] for session in together] == [[s for s, _ in session] for session in alone]
    _report(figures, "500 verschillende vragen", plans, alone, together, errors, wall)
