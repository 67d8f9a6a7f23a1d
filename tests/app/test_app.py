"""The real Streamlit app through AppTest, on the real corpus index built once per session."""

from __future__ import annotations

import shutil
import sqlite3
import time

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import CORPUS, make_settings
from vraagpunt.settings import REPO_ROOT

pytestmark = pytest.mark.slow

APP = str(REPO_ROOT / "app.py")
OVERHEAD = "Hoeveel overhead mag ik aanrekenen bij een valorisatieproject?"


def point_app_at(monkeypatch, settings, feedback_db, password: str = "") -> None:
    """The app reads its settings from the environment, like `make run` does."""
    monkeypatch.setenv("VRAAGPUNT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("VRAAGPUNT_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("VRAAGPUNT_FEEDBACK_DB", str(feedback_db))
    monkeypatch.setenv("VRAAGPUNT_ADMIN_PASSWORD", password)  # also overrides a developer's .env


@pytest.fixture
def feedback_db(tmp_path):
    return tmp_path / "feedback.sqlite3"


@pytest.fixture
def app(monkeypatch, corpus_settings, feedback_db) -> AppTest:
    point_app_at(monkeypatch, corpus_settings, feedback_db)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def login(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Aanmelden").click().run()


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def shown(at: AppTest) -> str:
    """What the page shows as HTML: answers, source cards, passages and captions with the user's words."""
    return "\n".join(h.value for h in at.get("html"))


def blocks(at: AppTest, kind: str) -> list[str]:
    """The st.html blocks of one kind (vp-passage, vp-card-title, vp-caption, …)."""
    return [h.value for h in at.get("html") if h.value.startswith(f'<div class="vp-text {kind}">')]


def read_as_captions(at: AppTest) -> list[str]:
    return [h.value for h in at.get("html") if "Gelezen als:" in h.value]


def test_first_screen_explains_itself_and_offers_examples(app):
    assert app.title[0].value == "Vraagpunt"
    assert any("documenten van Leerpunt" in c.value for c in app.caption)
    labels = [b.label for b in app.button]
    assert OVERHEAD in labels and "Wat is een begeleidingsproject?" in labels and "Nieuw gesprek" in labels


def test_question_gets_an_answer_with_numbered_sources(app):
    ask(app, OVERHEAD)
    page = shown(app)
    assert "10%" in page and '<span class="vp-sr-only">bron </span>1</span>' in page
    assert "valorisatieproducten" in page  # the title of the source card
    assert '<mark class="vp-cited">' in page  # the quoted sentences are marked in their passage
    assert "<strong>Er wordt een maximum van 10% overhead toegestaan" in page  # the direct answer is bold
    downloads = [b.label for b in app.download_button]
    assert any(label.startswith("Download bron (p. ") for label in downloads)
    assert not app.info  # a real answer is not a refusal


def test_example_button_asks_the_question(app):
    next(b for b in app.button if b.label == OVERHEAD).click().run()
    assert "10%" in shown(app)


def test_follow_up_shows_how_it_was_read(app):
    ask(app, OVERHEAD)
    ask(app, "En bij een begeleidingsproject?")
    read_as = read_as_captions(app)
    assert read_as and "overhead" in read_as[-1]
    assert len(app.chat_message) == 4


def test_a_question_that_stands_on_its_own_is_not_read_as_a_follow_up(app):
    ask(app, OVERHEAD)
    ask(app, "Wat is een begeleidingsproject?")
    ask(app, "Wat is het telefoonnummer van de minister?")
    assert not read_as_captions(app)
    assert app.info and "niet in de documenten" in app.info[-1].value  # not the call's budget figures


def test_an_answer_the_documents_may_not_give_says_so(app):
    from retrieval.extractive import DOUBT

    ask(app, "Tot welke datum kan ik mijn valorisatievoorstel indienen?")  # the call's Q&A names no deadline
    assert not app.info and "Bronnen" in texts(app)  # answered, with the closest passage: no refusal
    assert any(DOUBT in h for h in blocks(app, "vp-caption"))  # but the user is told it may not answer


def test_out_of_corpus_question_is_refused_calmly(app):
    ask(app, "Wat is het recept voor lasagne bolognese?")
    assert app.info and "niet in de documenten" in app.info[0].value
    assert "Mogelijk relevante passages" not in texts(app)  # nothing shares its words: no filler shown


def test_a_refusal_shows_only_passages_that_share_the_questions_words(app):
    ask(app, "Hoeveel kost een parkeerkaart in Gent?")
    assert app.info and "niet in de documenten" in app.info[0].value
    assert "Mogelijk relevante passages" in texts(app)
    passages = [p.lower() for p in blocks(app, "vp-passage")]
    assert passages, "the refusal offers the passages that share its words"
    # Each one names a content word of the question (a list of board members would not).
    assert all(any(word in p for word in ("kost", "gent", "parkeer")) for p in passages), passages


def test_a_refusal_with_nothing_related_offers_no_sources(app):
    ask(app, "Wat is het recept voor lasagne bolognese?")
    assert not app.download_button and "Bronnen" not in texts(app)
    assert not blocks(app, "vp-passage") and not blocks(app, "vp-card-title")


def test_the_filter_survives_another_page_and_a_refusal_under_it_offers_all_documents(app):
    app.selectbox(key="kind_filter").select("Rapporten").run()
    ask(app, OVERHEAD)
    assert app.info and "niet in de documenten" in app.info[0].value
    assert "Je zocht alleen in **Rapporten**" in texts(app)

    app.switch_page("app_pages/documents.py").run()
    app.switch_page("app_pages/chat.py").run()
    assert not app.exception, app.exception
    assert app.selectbox(key="kind_filter").value == "Rapporten"  # not back to "Alle documenten"
    assert len(app.chat_message) == 2

    next(b for b in app.button if b.label == "Zoek in alle documenten").click().run()
    assert not app.exception, app.exception
    assert app.selectbox(key="kind_filter").value == "Alle documenten"
    assert len(app.chat_message) == 4 and "10%" in shown(app)


def test_the_users_words_are_shown_as_typed(app):
    typed = ["'; DROP TABLE feedback; --", "**vet** en [een link](http://x.be) <b>x</b> -> 1. een"]
    for question in typed:
        ask(app, question)
    # st.text: no Markdown, no HTML and none of the typography Streamlit's Markdown applies ("--" -> "—").
    assert [t.value for t in app.text] == typed


def test_a_question_of_spaces_is_no_question(app):
    ask(app, "   ")
    assert not app.chat_message
    assert OVERHEAD in [b.label for b in app.button]  # the first screen is still there


def test_a_long_question_is_not_repeated_under_read_as(app):
    long = "Hoeveel overhead mag ik aanrekenen bij een valorisatieproject " + "en ook nog wat uitleg erbij " * 45 + "?"
    ask(app, long)
    assert not read_as_captions(app)  # only cut to the limit: the notice says so, no 1,000 characters again
    assert any("erg lang" in h.value for h in app.get("html"))


def test_read_as_is_short_even_for_a_long_follow_up():
    from app_pages.chat import READ_AS_CHARS, read_as
    from vraagpunt.types import Answer

    asked = "En bij een begeleidingsproject?"
    answer = Answer(question=asked, standalone_question=f"{asked} (vervolg op: {'overhead ' * 100})", text="",
                    refused=False, mode="extractive")
    assert read_as(answer).startswith(asked) and len(read_as(answer)) <= READ_AS_CHARS
    assert read_as(Answer(question=asked, standalone_question=asked, text="", refused=False, mode="x")) == ""


def test_new_conversation_clears_the_chat(app):
    ask(app, OVERHEAD)
    next(b for b in app.button if b.label == "Nieuw gesprek").click().run()
    assert not app.chat_message


def test_feedback_is_stored_with_question_answer_and_sources(app, feedback_db):
    ask(app, OVERHEAD)
    app.feedback[0].set_value(1).run()
    app.text_input(key=next(t.key for t in app.text_input if t.key.startswith("fbc-"))).input("Duidelijk antwoord").run()
    with sqlite3.connect(feedback_db) as db:
        rows = db.execute("SELECT question, answer, citations, thumbs, comment FROM feedback").fetchall()
    assert len(rows) == 1
    question, answer, citations, thumbs, comment = rows[0]
    assert question == OVERHEAD and "10%" in answer and thumbs == 1 and comment == "Duidelijk antwoord"
    assert "valorisatieprojecten-qa-infosessie-2025.pdf" in citations


def test_documents_page_is_read_only_without_password(app):
    app.switch_page("app_pages/documents.py").run()
    assert not app.exception
    assert "alleen-lezen" in app.info[0].value
    assert not app.get("file_uploader") and not app.text_input
    table = app.dataframe[0].value
    assert len(table) == 5 and "Q&A Ontwikkeling van valorisatieproducten" in " ".join(table["Titel"])
    # The same documents as a list for a phone (the stylesheet shows one of the two), titles as text.
    listed = next(h.value for h in app.get("html") if 'class="vp-doc-list"' in h.value)
    assert listed.count('<li class="vp-doc">') == 5 and "Q&amp;A Ontwikkeling van valorisatieproducten" in listed
    assert "Leerkr@cht.net" in listed and "<a" not in listed


def test_evaluation_page_says_how_long_a_run_takes(app):
    app.switch_page("app_pages/evaluation.py").run()
    duration = next(c.value for c in app.caption if c.value.startswith("Een run duurt"))
    assert "minuten (303 vragen, met baselines" in duration and "annuleren" in duration
    next(t for t in app.toggle if t.label.startswith("Met baselines")).set_value(False).run()
    duration = next(c.value for c in app.caption if c.value.startswith("Een run duurt"))
    assert "(303 vragen)" in duration and "minuten" in duration


def test_the_expected_duration_is_the_last_run_of_the_same_kind(tmp_path):
    import json

    from app_pages.evaluation import duration_text, expected_seconds
    from evals.dataset import HOLDOUT_DATASET
    from evals.history import dataset_key

    settings = make_settings(tmp_path)
    alone, measured = expected_seconds(settings, HOLDOUT_DATASET, baselines=False)
    with_baselines, _ = expected_seconds(settings, HOLDOUT_DATASET, baselines=True)
    assert not measured and 5 < alone < 60 < with_baselines  # estimates: the baselines embed the corpus first

    report = tmp_path / "report.json"
    report.write_text(json.dumps({"seconds": 75.0, "items": []}), encoding="utf-8")
    history = settings.data_dir / "evals" / "history.jsonl"
    history.parent.mkdir(parents=True)
    entry = {"dataset": dataset_key(HOLDOUT_DATASET), "report": str(report), "headline": {"vraagpunt": {}, "bm25": {}}}
    history.write_text(json.dumps(entry) + "\n", encoding="utf-8")
    assert expected_seconds(settings, HOLDOUT_DATASET, baselines=True) == (75.0, True)
    assert expected_seconds(settings, HOLDOUT_DATASET, baselines=False) == (alone, False)  # another kind of run
    assert duration_text(14) == "ongeveer 20 seconden" and duration_text(75) == "ongeveer 1 minuut"
    assert duration_text(170) == "ongeveer 3 minuten"


def test_evaluation_page_opens(app):
    app.switch_page("app_pages/evaluation.py").run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Evaluatie"
    assert any(m.label == "Beoordelingen" for m in app.metric)


@pytest.fixture
def small_settings(tmp_path, embedder):
    """One small PDF in its own corpus and index: the documents page may change it."""
    from ingest.pipeline import ingest
    from vraagpunt.index import open_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("extra-middelen-zorg-op-school.pdf", "manifest.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    settings = make_settings(tmp_path, corpus=corpus)
    ingest(settings, embedder, open_index(settings))
    return settings


def test_documents_page_adds_and_removes_documents_with_the_password(monkeypatch, small_settings, feedback_db):
    point_app_at(monkeypatch, small_settings, feedback_db, password="geheim")
    monkeypatch.setenv("VRAAGPUNT_ADMIN_LOGIN_DELAY", "0.2")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/documents.py").run()
    assert len(at.dataframe[0].value) == 1

    at.text_input[0].input("fout")
    login(at)
    assert at.error and "Onjuist wachtwoord" in at.error[0].value
    assert not at.get("file_uploader")

    time.sleep(0.25)  # a wrong password costs a wait before the next try
    at.text_input[0].input("geheim")
    login(at)
    note = "# Schoolfruit\n\nElke leerling van de proefscholen krijgt op woensdag gratis een stuk schoolfruit.\n"
    at.get("file_uploader")[0].set_value(("schoolfruit.md", note.encode(), "text/markdown"))
    at.run()
    next(b for b in at.button if b.label == "Toevoegen en indexeren").click().run()
    assert not at.exception, at.exception
    assert (small_settings.corpus_dir / "schoolfruit.md").is_file()
    assert "Toegevoegd: schoolfruit.md" in at.success[0].value
    assert len(at.dataframe[0].value) == 2

    at.switch_page("app_pages/chat.py").run()
    ask(at, "Wanneer krijgen leerlingen schoolfruit?")
    assert "woensdag" in shown(at)  # the shared assistant picked up the new index

    at.switch_page("app_pages/documents.py").run()
    at.selectbox(key="remove_source").set_value("schoolfruit.md").run()
    next(b for b in at.button if b.label == "Verwijderen en index bijwerken").click().run()
    assert not at.exception, at.exception
    assert not (small_settings.corpus_dir / "schoolfruit.md").exists()
    assert "Verwijderd: schoolfruit.md" in at.success[0].value
    assert len(at.dataframe[0].value) == 1


def test_evaluation_page_runs_the_held_out_set_apart(app):
    app.switch_page("app_pages/evaluation.py").run()
    box = app.selectbox[0]
    assert box.label == "Evaluatieset"
    assert box.options == ["Afstemset (dataset.jsonl)", "Verzegeld: achtergehouden vragen (holdout.jsonl)",
                           "Verzegeld: nieuwe vragen (sealed.jsonl)", "Verzegeld: derde set (sealed2.jsonl)",
                           "Verzegeld: vierde set (sealed3.jsonl)"]
    box.select("Verzegeld: achtergehouden vragen (holdout.jsonl)").run()
    assert not app.exception, app.exception
    # Never the tuning set's report under the held-out label: its own run, or none yet.
    shown = " ".join(c.value for c in app.caption)
    infos = " ".join(i.value for i in app.info)
    assert "48 vragen" in shown or "nog geen evaluatie uitgevoerd op deze set" in infos
    assert "303 vragen" not in shown


def test_evaluation_table_says_when_the_source_was_not_found():
    from app_pages.evaluation import question_frame
    from evals.model import EvalReport

    report = EvalReport.from_json({"items": [
        {"id": "q1", "kind": "fact", "question": "a?", "systems": {"vraagpunt": {"rank": 3, "key_facts": [True]}}},
        {"id": "q2", "kind": "rule", "question": "b?", "systems": {"vraagpunt": {"rank": None, "key_facts": [False]}}},
        {"id": "q3", "kind": "unanswerable", "question": "c?", "systems": {"vraagpunt": {"rank": None, "refused": True}}},
    ]})
    ranks = dict(zip(question_frame(report)["Id"], question_frame(report)["Rang bron"]))
    assert ranks == {"q1": "3", "q2": "niet gevonden", "q3": ""}
