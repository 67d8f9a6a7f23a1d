"""Change while serving: a CLI ingest next to the app's answering assistant, two ingests at once.

On the small generated corpus. The change moves the school-fruit day (woensdag -> donderdag) and adds
a document, so each answer shows which generation it came from.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from ingest.pipeline import ingest
from tests.conftest import live_chunks
from tests.processes import BIN, cli_env, start_cli_ingest, wait_until_locked
from tests.school import FRUIT_QUESTION, Askers, NEW_DAY, NEW_DOCUMENT, NEW_FACT, NEW_QUESTION, OLD_DAY, change_corpus
from vraagpunt.errors import IndexBusyError
from vraagpunt.index import open_index

pytestmark = pytest.mark.slow

def generation_of(answers, before: set[str], after: set[str]) -> list[str]:
    """Which generation each answer read: "oud", "nieuw", or "beide" (only passages both share).

    Every answer cites passages of one generation only, and the fruit day it gives is that generation's.
    """
    used = []
    for _, question, answer in answers:
        cited = {c.hit.chunk.id for c in answer.citations}
        assert cited <= before or cited <= after, f"{question!r} mixes two generations: {answer.text!r}"
        which = "beide" if cited <= before and cited <= after else "oud" if cited <= before else "nieuw"
        used.append(which)
        if question == FRUIT_QUESTION and not answer.refused:
            assert which != "beide"
            assert (OLD_DAY in answer.text, NEW_DAY in answer.text) == (which == "oud", which == "nieuw"), answer.text
    return used


def test_cli_ingest_while_the_app_answers(school_settings, figures, monkeypatch):
    from app_pages import resources

    assistant = resources.assistant(school_settings)  # what the running app holds
    before = set(live_chunks(school_settings))
    assert OLD_DAY in assistant.ask(FRUIT_QUESTION).text
    change_corpus(school_settings.corpus_dir)

    with Askers(assistant, [FRUIT_QUESTION, NEW_QUESTION, "Hoeveel kost een zwembeurt?"]) as askers:
        time.sleep(0.5)
        started = time.monotonic()
        done = subprocess.run([str(BIN), "ingest"], env=cli_env(school_settings), capture_output=True, text=True, timeout=300)
        finished = time.monotonic()
        time.sleep(1.0)
    assert done.returncode == 0, done.stderr
    assert "1 verwijderd" in done.stdout

    after = set(live_chunks(school_settings))
    assert askers.errors == []
    during = [a for a in askers.answers if started <= a[0] <= finished]
    assert len(during) > 20
    used = generation_of(askers.answers, before, after)

    # Without a restart: the next question reads the new generation.
    fruit = assistant.ask(FRUIT_QUESTION)
    assert NEW_DAY in fruit.text and OLD_DAY not in fruit.text
    play = assistant.ask(NEW_QUESTION)
    assert NEW_FACT in play.text and play.citations[0].hit.chunk.source == NEW_DOCUMENT
    figures.append(
        f"CLI-ingest terwijl de app antwoordt: {len(askers.answers)} antwoorden, {len(askers.errors)} fouten, "
        f"{len(during)} tijdens de ingest; {used.count('oud')} uit de vorige en {used.count('nieuw')} uit de nieuwe "
        "generatie (de rest citeert ongewijzigde passages), geen enkel antwoord gemengd; de nieuwe documenten "
        "zonder herstart zichtbaar."
    )

    # The app's pages show it too, in the same process, without a restart.
    from streamlit.testing.v1 import AppTest

    from tests.app.test_app import APP, point_app_at

    point_app_at(monkeypatch, school_settings, school_settings.data_dir / "feedback.sqlite3")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/documents.py").run()
    assert NEW_DOCUMENT in list(at.dataframe[0].value["Bestand"])


def test_a_second_ingest_waits_for_the_first_and_loses_nothing(school_settings, embedder):
    change_corpus(school_settings.corpus_dir)
    cli = start_cli_ingest(school_settings, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until_locked(school_settings, cli)
    # Meanwhile staff upload a note through the app: its ingest waits for the CLI's, then adds the note.
    (school_settings.corpus_dir / "schoolreis.md").write_text(
        "# Schoolreis\n\nDe schoolreis van het vierde leerjaar gaat op 5 juni 2027 naar Planckendael.\n", encoding="utf-8"
    )
    with pytest.raises(IndexBusyError, match="Er loopt al een indexering"):
        ingest(school_settings.replace(ingest_wait=0.2), embedder, open_index(school_settings))
    waits: list[str] = []
    report = ingest(school_settings, embedder, open_index(school_settings), on_wait=waits.append)
    out, err = cli.communicate(timeout=300)
    assert cli.returncode == 0, err
    assert waits and "wacht" in waits[0]
    # Neither ingest undid the other's change.
    assert {NEW_DOCUMENT, "schoolreis.md"} <= set(live_chunks(school_settings).values())
    assert report.documents == 7
