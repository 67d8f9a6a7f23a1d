"""The evaluation set is sound: every evidence is in its source, every key fact in its evidence."""

from __future__ import annotations

import copy

import pytest

from evals.dataset import (
    DEFAULT_DATASET, HOLDOUT_DATASET, SEALED2_DATASET, SEALED3_DATASET, SEALED_DATASET, load_dataset, load_documents,
    validate_dataset,
)
from vraagpunt.errors import InputError
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    return load_documents(make_settings(tmp_path_factory.mktemp("dataset")))


@pytest.fixture(scope="module")
def items():
    return load_dataset(DEFAULT_DATASET)


def test_real_dataset_is_valid(items, documents):
    assert len(items) == 303
    assert validate_dataset(items, documents) == []


@pytest.mark.parametrize(
    "path, size", [(HOLDOUT_DATASET, 48), (SEALED_DATASET, 80), (SEALED2_DATASET, 80), (SEALED3_DATASET, 80)]
)
def test_sealed_sets_are_valid_and_share_no_question_with_the_tuning_set(items, documents, path, size):
    sealed = load_dataset(path)
    assert len(sealed) == size
    assert validate_dataset(sealed, documents) == []
    assert not {i["question"].lower() for i in sealed} & {i["question"].lower() for i in items}


def test_new_questions_cover_every_document_with_answerable_and_unanswerable_ones(documents):
    """The questions of December 2026 (q144 on and the second sealed set): every document gets both."""
    new = [i for i in load_dataset(DEFAULT_DATASET)[143:] + load_dataset(SEALED_DATASET)]
    sources = {d.source for d in documents}
    answerable = {i["source"] for i in new if i["kind"] != "unanswerable"}
    near = {i.get("near") for i in new if i["kind"] == "unanswerable"}
    assert answerable == sources and sources <= near
    assert sum(i["kind"] == "unanswerable" for i in new) >= 40 and sum(i["kind"] != "unanswerable" for i in new) >= 40
    pairs = [i for i in new if i.get("history")]
    assert sum(i["kind"] == "followup" for i in pairs) >= 20 and sum(i["kind"] != "followup" for i in pairs) >= 20


def test_a_bad_file_is_reported_line_by_line_and_optional_fields_get_defaults(tmp_path):
    path = tmp_path / "eigen.jsonl"
    path.write_text('{"question": "Wat is een begeleidingsproject?"}\n', encoding="utf-8")
    (item,) = load_dataset(path)
    assert item["id"] == "regel-1" and item["kind"] == "fact" and item["persona"] == ""
    assert item["history"] == [] and item["must_include"] == [] and item["evidence"] is None

    path.write_text('{"question": "ok"}\n{"id": "x"}\nniet json\n{"question": "q", "kind": "weetje", '
                    '"must_include": "10%"}\n', encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_dataset(path)
    message = str(error.value)
    assert "heeft 4 fout(en)" in message
    assert "regel 2: 'question' ontbreekt" in message and "regel 3: geen geldige JSON" in message
    assert "regel 4: onbekende kind 'weetje'" in message and "regel 4: 'must_include' moet een lijst" in message


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
