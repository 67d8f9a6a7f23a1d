"""Rule-based follow-up rewriting (extractive mode)."""

from __future__ import annotations

from retrieval.followup import focus_of, is_followup, standalone_question

BUDGET = [
    {"role": "user", "content": "Hoeveel budget kan ik aanvragen voor een valorisatieproject?"},
    {"role": "assistant", "content": "Elk project kan een maximum van €30.000 aanvragen. [1]"},
]


def test_standalone_questions_are_left_alone():
    question = "Wat is een begeleidingsproject bij Leerpunt precies?"
    assert not is_followup(question)
    assert standalone_question(question, BUDGET) == question
    assert standalone_question("en tot wanneer?", []) == "en tot wanneer?"


def test_anaphoric_followup_gets_the_earlier_topic():
    standalone = standalone_question("en hoeveel overhead mag daarbij?", BUDGET)
    assert "valorisatieproject" in standalone
    assert focus_of(standalone) == "en hoeveel overhead mag daarbij?"


def test_elliptical_followup_swaps_the_phrase():
    history = [{"role": "user", "content": "Hoeveel overhead mag ik aanrekenen bij een valorisatieproject?"}]
    assert standalone_question("En bij een begeleidingsproject?", history) == (
        "Hoeveel overhead mag ik aanrekenen bij een begeleidingsproject?"
    )


def test_topic_comes_from_the_last_standalone_user_turn():
    history = BUDGET + [{"role": "user", "content": "en daarbij?"}, {"role": "assistant", "content": "…"}]
    assert "valorisatieproject" in standalone_question("tot wanneer loopt die?", history)
