"""The evaluation set is sound: every evidence is in its source, every key fact in its evidence."""

from __future__ import annotations

import copy

import pytest

from evals.runner import DEFAULT_DATASET, HOLDOUT_DATASET, load_dataset, load_documents, validate_dataset
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    return load_documents(make_settings(tmp_path_factory.mktemp("dataset")))


@pytest.fixture(scope="module")
def items():
    return load_dataset(DEFAULT_DATASET)


def test_real_dataset_is_valid(items, documents):
    assert len(items) == 143
    assert validate_dataset(items, documents) == []


def test_holdout_set_is_valid_and_shares_no_question_with_the_tuning_set(items, documents):
    holdout = load_dataset(HOLDOUT_DATASET)
    assert len(holdout) == 48
    assert validate_dataset(holdout, documents) == []
    assert not {i["question"].lower() for i in holdout} & {i["question"].lower() for i in items}


def _item(items, kind):
    return copy.deepcopy(next(i for i in items if i["kind"] == kind))


def test_broken_items_are_reported(items, documents):
    wrong_evidence = _item(items, "fact") | {"id": "x1", "evidence": "Deze zin staat nergens."}
    wrong_fact = _item(items, "number") | {"id": "x2", "must_include": ["99.999"]}
    duplicate = _item(items, "rule") | {"id": "x2"}
    bad_labels = _item(items, "concept") | {"id": "x3", "kind": "weetje", "persona": "ouder"}
    no_history = _item(items, "followup") | {"id": "x4", "history": []}
    sourced_unanswerable = _item(items, "unanswerable") | {"id": "x5", "source": "jaarverslag.md"}
    unknown_source = _item(items, "fact") | {"id": "x6", "source": "bestaat-niet.pdf"}

    problems = "\n".join(
        validate_dataset(
            [wrong_evidence, wrong_fact, duplicate, bad_labels, no_history, sourced_unanswerable,
             unknown_source],
            documents,
        )
    )

    assert "x1: evidence staat niet in" in problems
    assert "x2: must_include '99.999' staat niet in de evidence" in problems
    assert "x2: id komt meer dan eens voor" in problems
    assert "x3: onbekende kind 'weetje'" in problems and "x3: onbekende persona 'ouder'" in problems
    assert "x4: vervolgvraag zonder history" in problems
    assert "x5: onbeantwoordbare vraag heeft een source" in problems
    assert "x6: bron 'bestaat-niet.pdf'" in problems


def test_evidence_matching_ignores_layout(items, documents):
    """Line breaks, double spaces and punctuation in an evidence do not make it fail."""
    item = _item(items, "fact")
    item["evidence"] = item["evidence"].replace(" ", "\n  ", 2).replace(".", " .")
    assert validate_dataset([item], documents) == []
