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


def test_first_screen_explains_itself_and_offers_examples(app):
    assert app.title[0].value == "Vraagpunt"
    assert any("documenten van Leerpunt" in c.value for c in app.caption)
    labels = [b.label for b in app.button]
    assert OVERHEAD in labels and "Wat is een begeleidingsproject?" in labels and "Nieuw gesprek" in labels


def test_question_gets_an_answer_with_numbered_sources(app):
    ask(app, OVERHEAD)
    shown = texts(app)
    assert "10%" in shown and ":blue-badge[1]" in shown
    assert "valorisatieproducten" in shown  # the title of the source card
    assert ":orange-background[" in shown  # the answering sentence is highlighted in its passage
    downloads = [b.label for b in app.download_button]
    assert any(label.startswith("Download bron (p. ") for label in downloads)
    assert not app.info  # a real answer is not a refusal


def test_example_button_asks_the_question(app):
    next(b for b in app.button if b.label == OVERHEAD).click().run()
    assert "10%" in texts(app)


def test_follow_up_shows_how_it_was_read(app):
    ask(app, OVERHEAD)
    ask(app, "En bij een begeleidingsproject?")
    read_as = [c.value for c in app.caption if c.value.startswith("Gelezen als:")]
    assert read_as and "overhead" in read_as[-1]
    assert len(app.chat_message) == 4


def test_out_of_corpus_question_is_refused_calmly(app):
    ask(app, "Wat is het recept voor lasagne bolognese?")
    assert app.info and "niet in de documenten" in app.info[0].value
    assert "Mogelijk relevante passages" in texts(app)


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
    assert "woensdag" in texts(at)  # the shared assistant picked up the new index

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
    assert box.options == ["Bekende vragen (dataset.jsonl)", "Achtergehouden vragen (holdout.jsonl)"]
    box.select("Achtergehouden vragen (holdout.jsonl)").run()
    assert not app.exception, app.exception
    # Never the tuning set's report under the held-out label: its own run, or none yet.
    shown = " ".join(c.value for c in app.caption)
    infos = " ".join(i.value for i in app.info)
    assert "48 vragen" in shown or "nog geen evaluatie uitgevoerd op deze set" in infos
    assert "143 vragen" not in shown


def test_evaluation_table_says_when_the_source_was_not_found():
    from app_pages.evaluation import question_frame

    report = {"items": [
        {"id": "q1", "kind": "fact", "question": "a?", "systems": {"vraagpunt": {"rank": 3, "key_facts": [True]}}},
        {"id": "q2", "kind": "rule", "question": "b?", "systems": {"vraagpunt": {"rank": None, "key_facts": [False]}}},
        {"id": "q3", "kind": "unanswerable", "question": "c?", "systems": {"vraagpunt": {"rank": None, "refused": True}}},
    ]}
    ranks = dict(zip(question_frame(report)["Id"], question_frame(report)["Rang bron"]))
    assert ranks == {"q1": "3", "q2": "niet gevonden", "q3": ""}
