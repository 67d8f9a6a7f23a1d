"""A full disk, a read-only data folder and a deleted data folder under a running app.

Full and read-only are real: the data folder is a 4 MB tmpfs mounted in a private user and mount
namespace (`unshare -rm`), filled to the last byte or remounted read-only while the app's stand-in
(tests/faults_worker.py) serves. Deleted runs through the real app (AppTest).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from ingest.pipeline import ingest
from tests.app.test_app import APP, point_app_at, shown
from tests.school import FRUIT_QUESTION, NEW_DAY, OLD_DAY, write_corpus
from vraagpunt.index import open_index
from vraagpunt.settings import REPO_ROOT

pytestmark = pytest.mark.slow


def _can_mount_privately() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_on_small_disk(tmp_path, scenario: str) -> dict:
    if not _can_mount_privately():
        pytest.skip("needs user namespaces (unshare -rm) to mount a small tmpfs without privileges")
    corpus = write_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    data.mkdir()
    script = 'mount -t tmpfs -o size=4m tmpfs "$1" && exec "$2" -m tests.faults_worker "$3" "$1" "$4"'
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", str(data), sys.executable, str(corpus), scenario],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("scenario", "fault", "said"),
    [("vol", "ENOSPC", "De schijf is vol"), ("alleen-lezen", "EROFS", "is alleen-lezen")],
)
def test_a_full_or_read_only_data_folder_under_a_running_app(tmp_path, figures, scenario, fault, said):
    out = run_on_small_disk(tmp_path, scenario)
    assert out["fault"] == fault
    # Questions keep their answers from the index as it was.
    assert OLD_DAY in out["before"] and OLD_DAY in out["answer_during"]
    # Feedback waits, the user is told in Dutch, and nothing is lost once the disk is repaired.
    assert out["feedback_id"] < 0 and out["feedback_waiting"] == 1
    assert "nog niet opgeslagen" in out["feedback_problem"]
    # The ingest says what is wrong and what to do; the previous generation keeps answering.
    assert out["ingest_during"].startswith("StorageError: ") and said in out["ingest_during"]
    assert "De vorige index blijft bruikbaar." in out["ingest_during"] or "probeer het opnieuw" in out["ingest_during"]
    assert OLD_DAY in out["answer_after_failed_ingest"]
    assert out["flushed"] is True
    assert out["feedback_rows"] == [["vraag voor de storing", ""], ["vraag tijdens de storing", "toelichting tijdens de storing"]]
    assert NEW_DAY in out["answer_after_repair"]
    figures.append(f"Datamap {scenario}: vragen beantwoord uit de vorige index, ingest: {out['ingest_during'][:160]}; "
                   f"feedback: \"{out['feedback_problem']}\", na herstel 2 van 2 rijen bewaard.")


def test_a_data_folder_deleted_under_the_running_app(monkeypatch, tmp_path, embedder, figures):
    corpus = write_corpus(tmp_path / "corpus")
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, corpus=corpus)
    ingest(settings, embedder, open_index(settings))
    point_app_at(monkeypatch, settings, settings.data_dir / "feedback.sqlite3")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.chat_input[0].set_value(FRUIT_QUESTION).run()
    at.feedback[0].set_value(1).run()

    shutil.rmtree(settings.data_dir)
    at.feedback[0].set_value(0).run()  # the user changes their mind after the folder is gone
    at.chat_input[0].set_value("Hoeveel kost een zwembeurt?").run()
    assert not at.exception, at.exception
    assert at.error and "bestaat niet (meer)" in at.error[0].value and "vraagpunt ingest" in at.error[0].value
    message = at.error[0].value

    ingest(settings, embedder, open_index(settings))  # what the message asks staff to do
    at.chat_input[0].set_value("Hoeveel kost een zwembeurt?").run()
    assert not at.error and "2 euro" in shown(at)  # no restart needed
    at.feedback[-1].set_value(1).run()  # judgements given after the folder vanished are all kept
    with sqlite3.connect(settings.data_dir / "feedback.sqlite3") as db:
        assert db.execute("SELECT question, thumbs FROM feedback").fetchall() == [("Hoeveel kost een zwembeurt?", 1)]
    figures.append(f"Datamap verwijderd onder de app: \"{message}\"; na `vraagpunt ingest` antwoordt dezelfde app weer.")
