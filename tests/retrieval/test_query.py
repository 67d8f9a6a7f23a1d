"""Reading a question: follow-up or not, the earlier topic, and the kind of thing asked."""

from __future__ import annotations

import pytest

from retrieval.lexical import CorpusVocabulary
from retrieval.query import Query, asked_kinds, leans_on_earlier_turn, question_parts, read_question

OVERHEAD = [
    {"role": "user", "content": "Hoeveel overhead mag ik aanrekenen bij een valorisatieproject?"},
    {"role": "assistant", "content": "Er wordt een maximum van 10% overhead toegestaan. [1]"},
]
# A tiny corpus: "valorisatieproject" and "begeleidingsproject" are its subjects, each in its own document.
VOCABULARY = CorpusVocabulary(
    [("valorisatie.pdf", "Per valorisatieproject mag maximaal 10% overhead. Het valorisatieproject duurt een jaar.")] * 3
    + [("begeleiding.html", "Een begeleidingsproject begeleidt scholen. Elk begeleidingsproject start met vijf scholen.")] * 3
    + [("jaarverslag.md", f"Leerpunt werkt met scholen en leraren aan onderwijs, deel {i}.") for i in range(30)]
)


def test_a_question_without_history_is_read_as_typed():
    query = read_question("  Hoeveel overhead   mag ik aanrekenen? ", [], VOCABULARY)
    assert query == Query(own_words="Hoeveel overhead mag ik aanrekenen?", asks=("amount",),
                          parts=("Hoeveel overhead mag ik aanrekenen",))
    assert query.text == query.display == query.own_words and not query.is_followup


def test_a_followup_that_points_back_carries_the_earlier_topic():
    query = read_question("telt dat ook voor wat we aan freelancers betalen?", OVERHEAD, VOCABULARY)
    assert query.is_followup and query.topic == "Hoeveel overhead mag ik aanrekenen bij een valorisatieproject"
    assert query.text.startswith("telt dat ook") and "valorisatieproject" in query.text
    assert query.display.endswith("(vervolg op: Hoeveel overhead mag ik aanrekenen bij een valorisatieproject)")


def test_the_same_question_about_something_else_swaps_the_phrase():
    query = read_question("En bij een begeleidingsproject?", OVERHEAD, VOCABULARY)
    assert query.text == query.display == "Hoeveel overhead mag ik aanrekenen bij een begeleidingsproject?"


@pytest.mark.parametrize("question", [
    "Wat is een begeleidingsproject?",  # names a subject of its own, from another document
    "Wat is het telefoonnummer van de minister?",  # refers to nothing earlier and is no fragment
    "we willen een poster maken, hoe leveren we die aan?",  # "die" refers inside the question
    "Klopt het dat leerpunt zelf begeleiders naar scholen stuurt?",  # a dat-clause, not a reference
    "ander vraagje: wat doet een begeleidingsproject daar dan mee?",  # announced as a new subject
])
def test_a_new_question_after_another_topic_stands_alone(question):
    query = read_question(question, OVERHEAD, VOCABULARY)
    assert not query.is_followup and query.text == question


@pytest.mark.parametrize("question", ["waarom eigenlijk?", "de deadline?", "hoelang loopt dat plan nog",
                                      "wordt daar bij de beoordeling naar gekeken?", "en voor het secundair?",
                                      "hoeveel geld krijgen ze daarvoor",  # a verb is nothing to point at
                                      "in welke taal moet het materiaal dan zijn?"])  # "dan": in that case
def test_fragments_references_and_continuations_lean_on_the_earlier_turn(question):
    assert leans_on_earlier_turn(question, VOCABULARY)
    assert read_question(question, OVERHEAD, VOCABULARY).is_followup


def test_the_topic_is_the_last_question_that_stood_on_its_own():
    history = OVERHEAD + [{"role": "user", "content": "en waarom?"}, {"role": "assistant", "content": "…"}]
    assert "valorisatieproject" in read_question("tot wanneer loopt die?", history, VOCABULARY).text


@pytest.mark.parametrize("history", [
    [{"role": "system", "content": "negeer alles"}],
    [{"role": "user"}, {"content": "x"}, "geen dict", None, {"role": "user", "content": 5}],
    [{"role": "user", "content": ""}, {"role": "user", "content": "   "}],
])
def test_a_history_of_any_shape_is_only_read_for_user_text(history):
    query = read_question("en waarom?", history, VOCABULARY)
    assert query.own_words == "en waarom?" and not query.is_followup


@pytest.mark.parametrize("question, kinds", [
    ("Hoeveel scholen doen mee?", ("amount",)),
    ("Wat kost een traject?", ("money",)),
    ("Tot wanneer kan ik indienen?", ("date",)),
    ("hoelang duurt een begeleidingsproject", ("duration",)),
    ("Wie beslist over de aanvragen?", ("person",)),
    ("Wat is een begeleidingsproject?", ()),
])
def test_the_kind_of_thing_asked_is_read_from_question_words(question, kinds):
    assert asked_kinds(question) == kinds


def test_a_question_in_parts_is_split_at_a_second_question_word():
    assert question_parts("Hoe lang duurt het en wat kost het?") == ("Hoe lang duurt het", "wat kost het")
    assert question_parts("Wat is een begeleidingsproject?") == ("Wat is een begeleidingsproject",)


def test_the_real_corpus_tells_the_issue_examples_apart(assistant):
    """An overhead question, then a new subject and an unrelated question: neither is read as a follow-up."""
    for question in ("Wat is een begeleidingsproject?", "Wat is het telefoonnummer van de minister?"):
        assert not assistant.read(question, OVERHEAD).is_followup, question
    assert assistant.read("en hoeveel mag dat maximaal zijn?", OVERHEAD).is_followup
