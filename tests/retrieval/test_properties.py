"""Property tests (hypothesis): `search` and `ask` never raise on what a user or a client may send, on the
small generated corpus: any unicode, control characters, 100,000-character questions, and follow-up
histories of any shape."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval.search import SearchFilter
from vraagpunt.types import Answer

pytestmark = pytest.mark.slow

CONTROL = st.text(alphabet=st.characters(categories=("Cc", "Cf", "Zl", "Zp", "Zs")), max_size=40)
ANY = st.text(alphabet=st.characters(codec=None, exclude_categories=("Cs",)), max_size=300)
HUGE = st.builds(lambda unit, n: (unit * n)[:100_000], st.text(min_size=1, max_size=12), st.just(100_000))
MIXED = st.builds(lambda a, b, c: a + b + c, ANY, CONTROL, st.sampled_from(["", "Wanneer krijgen leerlingen schoolfruit?"]))
QUESTION = st.one_of(ANY, CONTROL, MIXED, HUGE, st.just(""), st.just("?" * 5000), st.just("\x00" * 50))
FILTERS = st.sampled_from([SearchFilter(), SearchFilter(kinds=("faq",)), SearchFilter(kinds=("webpage",)),
                           SearchFilter(sources=("schoolfruit.md",)), SearchFilter(kinds=("bestaat-niet",))])
TURN = st.one_of(
    st.none(), st.integers(), ANY, st.lists(ANY, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(["role", "content"]), ANY),
                    st.one_of(st.none(), st.integers(), ANY, HUGE, st.sampled_from(["user", "assistant", "system", ""])),
                    max_size=4),
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "tool", "", "USER"]),
                           "content": st.one_of(ANY, HUGE, CONTROL, st.just(""))}),
)
HISTORY = st.one_of(st.none(), st.lists(TURN, max_size=12), st.text(max_size=20), st.just({"role": "user"}))
SLOW = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                  HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def school_assistant(tmp_path_factory, embedder):
    from retrieval.assistant import make_assistant
    from tests.conftest import build_school_index

    return make_assistant(build_school_index(tmp_path_factory.mktemp("properties"), embedder))


@settings(max_examples=60, **SLOW)
@given(question=QUESTION, search_filter=FILTERS, k=st.one_of(st.none(), st.integers(1, 50)))
def test_search_never_raises(school_assistant, question, search_filter, k):
    hits = school_assistant.searcher.search(question, k=k, filter=search_filter)
    assert len(hits) <= (k or school_assistant.settings.top_k)
    assert all(search_filter.allows(h.chunk) for h in hits)


@settings(max_examples=60, **SLOW)
@given(question=QUESTION, search_filter=FILTERS)
def test_ask_never_raises(school_assistant, question, search_filter):
    answer = school_assistant.ask(question, (), search_filter)
    assert isinstance(answer, Answer) and answer.text
    assert len(answer.standalone_question) <= school_assistant.settings.max_question_chars


@settings(max_examples=60, **SLOW)
@given(history=HISTORY, question=st.one_of(st.sampled_from(["En tot wanneer loopt dat?", "En bij de zwemles?", "Hoeveel?"]), ANY))
def test_a_follow_up_history_of_any_shape_never_raises(school_assistant, history, question):
    answer = school_assistant.ask(question, history)
    assert isinstance(answer, Answer) and answer.text
    # A huge earlier turn cannot make the rewritten question huge.
    assert len(answer.standalone_question) <= 2 * school_assistant.settings.max_question_chars + 50
