"""The guarded admin part of the Documenten page, uploads, and the feedback store, on the small generated
corpus through the real app (AppTest)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.admin import LoginThrottle, password_matches
from app_pages.feedback import FeedbackStore
from tests.app.test_app import APP, login, point_app_at, shown
from tests.conftest import live_chunks
from tests.feedback_writers import write_rows
from tests.school import FRUIT_QUESTION, OLD_DAY, Askers

pytestmark = pytest.mark.slow

PASSWORD = "geheim-wachtwoord"
ADDRESS = "adres:lokaal"  # AppTest, like a browser on this machine, has no client address: all share one count


@pytest.fixture
def documents(monkeypatch, school_settings):
    """Open the Documenten page with an admin password, a short login delay and a short session time-out."""

    def open_page(delay: float = 0.2, session_minutes: float = 30.0, **env) -> AppTest:
        point_app_at(monkeypatch, school_settings, school_settings.data_dir / "feedback.sqlite3", password=PASSWORD)
        monkeypatch.setenv("VRAAGPUNT_ADMIN_LOGIN_DELAY", str(delay))
        monkeypatch.setenv("VRAAGPUNT_ADMIN_SESSION_MINUTES", str(session_minutes))
        for key, value in env.items():
            monkeypatch.setenv(f"VRAAGPUNT_{key.upper()}", str(value))
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.switch_page("app_pages/documents.py").run()
        assert not at.exception, at.exception
        return at

    return open_page


def try_password(at: AppTest, password: str) -> str:
    """Submit a password; what the page says back ('' when it let the admin in)."""
    at.text_input[0].input(password)
    login(at)
    assert not at.exception, at.exception
    return at.error[0].value if at.error else ""


def is_admin(at: AppTest) -> bool:
    return bool(at.get("file_uploader"))


def throttle_wait(settings) -> float:
    from app_pages import resources

    return resources.login_throttle(settings).wait(ADDRESS)


def test_passwords_are_compared_on_digests():
    assert password_matches("geheim", "geheim")
    assert not password_matches("geheim ", "geheim") and not password_matches("", "geheim")
    assert not password_matches("", "")  # no password configured never lets anyone in
    assert not password_matches("g" * 10_000, "geheim")


def test_seven_quick_wrong_passwords_get_one_answer_and_then_a_wait(documents, school_settings):
    # A wait far longer than the eight page runs take, so a slow machine cannot let it lapse mid-test
    # (0.5 s did, once, on a loaded CI run).
    at = documents(delay=60.0)
    said = [try_password(at, f"fout-{i}") for i in range(7)]
    assert "Onjuist wachtwoord" in said[0]
    assert all("Te veel onjuiste pogingen" in s for s in said[1:])  # not even checked
    assert not is_admin(at)
    # The right password is refused as well while the wait lasts: otherwise the wait would mean nothing.
    assert "Te veel onjuiste pogingen" in try_password(at, PASSWORD)
    assert not is_admin(at)


def test_each_wrong_password_doubles_the_wait_per_session_and_per_address(documents, school_settings):
    at = documents(delay=0.5)
    # The second session is opened before the wrong passwords, so that only one page run lies between the
    # last one and its try: opening a page can outlast a short wait on a loaded machine.
    other = documents(delay=0.5)
    waits = []
    for i in range(4):
        time.sleep(throttle_wait(school_settings))
        assert "Onjuist wachtwoord" in try_password(at, f"fout-{i}")
        waits.append(throttle_wait(school_settings))
    assert all(later > 1.5 * earlier for earlier, later in zip(waits, waits[1:])), waits
    assert waits[-1] > 3.0  # 0.5, 1, 2, 4 s

    # Another session from the same address waits too; a new session is no way around it.
    assert "Te veel onjuiste pogingen" in try_password(other, PASSWORD)
    time.sleep(throttle_wait(school_settings))
    assert try_password(other, PASSWORD) == "" and is_admin(other)


def test_the_throttle_counts_sessions_and_addresses_apart():
    now = [0.0]
    throttle = LoginThrottle(1.0, clock=lambda: now[0])
    assert throttle.failed("sessie:a", "adres:10.0.0.1") == 1.0
    assert throttle.failed("sessie:a", "adres:10.0.0.1") == 2.0
    assert throttle.wait("sessie:b", "adres:10.0.0.2") == 0.0  # another client is not held up
    assert throttle.wait("sessie:b", "adres:10.0.0.1") == 2.0  # another session from that address is
    now[0] = 2.0
    assert throttle.wait("sessie:a", "adres:10.0.0.1") == 0.0
    for _ in range(20):
        throttle.failed("sessie:c", "adres:10.0.0.3")
    assert throttle.wait("adres:10.0.0.3") == 300.0  # capped
    throttle.succeeded("sessie:c")
    assert throttle.wait("sessie:c") == 0.0 and throttle.wait("adres:10.0.0.3") == 300.0


def test_an_idle_admin_session_times_out(documents):
    # 3 s: room for a slow page run between two bits of activity, which must not count as idle time.
    at = documents(session_minutes=0.05)
    assert try_password(at, PASSWORD) == "" and is_admin(at)
    for _ in range(4):  # activity keeps it alive past the time-out
        time.sleep(1.0)
        at.run()
        assert is_admin(at)
    time.sleep(3.5)
    at.run()
    assert not is_admin(at)
    assert at.warning and "Je beheersessie is verlopen" in at.warning[0].value


def test_uploads_are_checked_by_content_size_and_name(documents, school_settings):
    at = documents(max_file_mb=0.01)  # 10 KB
    assert try_password(at, PASSWORD) == ""
    note = "# Schoolreis\n\nDe schoolreis van het vierde leerjaar gaat op 5 juni 2027 naar Planckendael.\n".encode()
    zipped = b"PK\x03\x04" + bytes(200)
    at.get("file_uploader")[0].set_value([
        ("../../../buiten.md", note, "text/markdown"),
        ("rapport.pdf", zipped, "application/pdf"),
        ("groot.md", b"# Groot\n\n" + b"tekst " * 4000, "text/markdown"),
    ])
    at.run()
    next(b for b in at.button if b.label == "Toevoegen en indexeren").click().run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "rapport.pdf: bestand is geen PDF" in errors and "groot.md: te groot" in errors
    corpus = school_settings.corpus_dir
    assert (corpus / "buiten.md").read_bytes() == note and not (corpus.parent / "buiten.md").exists()
    assert not (corpus / "rapport.pdf").exists() and not (corpus / "groot.md").exists()
    assert "buiten.md" in list(at.dataframe[0].value["Bestand"])
    assert "Toegevoegd: buiten.md (was ../../../buiten.md)" in at.success[0].value


def test_staff_can_export_feedback_as_csv(documents, school_settings):
    store = FeedbackStore(school_settings.data_dir / "feedback.sqlite3")
    store.add("=HYPERLINK(\"http://evil\")", "Antwoord met; puntkomma", [{"title": "Schoolfruit", "page": "p. 2"}], 1,
              standalone_question="gelezen", comment="Top")
    store.add("Wanneer is de zwemles?", "Vrijdag.", [], 0, refused=True)
    lines = store.export_csv().decode("utf-8-sig").splitlines()
    assert lines[0] == "id;tijdstip;vraag;gelezen als;antwoord;geweigerd;duim;opmerking;bronnen"
    assert lines[1].split(";")[2] == "\"'=HYPERLINK(\"\"http://evil\"\")\""  # a spreadsheet shows it, never runs it
    assert lines[1].endswith(";nee;omhoog;Top;Schoolfruit p. 2") and ";ja;omlaag;" in lines[2]

    at = documents()
    assert not any(b.label == "Feedback exporteren (CSV)" for b in at.download_button)  # admins only
    assert try_password(at, PASSWORD) == ""
    assert any(b.label == "Feedback exporteren (CSV)" for b in at.download_button)


def test_twenty_processes_writing_feedback_at_once_lose_no_row(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=write_rows, args=(str(path), w, 25)) for w in range(20)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * 20
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        questions = {q for (q,) in db.execute("SELECT question FROM feedback")}
    assert questions == {f"vraag {w}-{i}" for w in range(20) for i in range(25)}


def test_twenty_threads_of_one_app_writing_feedback_lose_no_row(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    ids: list[int] = []
    threads = [threading.Thread(target=lambda w=w: ids.extend(store.add(f"v{w}-{i}", "a", [], 1) for i in range(25)))
               for w in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 500 and min(ids) > 0 and store.counts()["total"] == 500


def test_feedback_that_cannot_be_written_waits_and_the_user_is_told(monkeypatch, school_settings, tmp_path):
    blocked = tmp_path / "geen-map"
    blocked.write_text("een bestand waar de feedbackmap zou moeten staan")
    point_app_at(monkeypatch, school_settings, blocked / "feedback.sqlite3")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.chat_input[0].set_value(FRUIT_QUESTION).run()
    assert OLD_DAY in shown(at)
    at.feedback[0].set_value(1).run()
    assert not at.exception, at.exception
    assert at.toast and "nog niet opgeslagen" in at.toast[0].value
    at.text_input(key=next(t.key for t in at.text_input if t.key.startswith("fbc-"))).input("Duidelijk").run()

    blocked.unlink()  # staff repair the folder; the next judgement writes the waiting one too
    at.chat_input[0].set_value("Hoeveel kost een zwembeurt?").run()
    at.feedback[1].set_value(0).run()
    assert not at.toast
    with sqlite3.connect(blocked / "feedback.sqlite3") as db:
        rows = db.execute("SELECT question, thumbs, comment FROM feedback ORDER BY id").fetchall()
    assert rows == [(FRUIT_QUESTION, 1, "Duidelijk"), ("Hoeveel kost een zwembeurt?", 0, "")]


def test_upload_and_removal_on_the_documents_page_while_other_sessions_ask(documents, school_settings, figures):
    from app_pages import resources

    at = documents()
    assert try_password(at, PASSWORD) == ""
    shared = resources.assistant(resources.settings())  # the one the page's own runs use
    trip = "Waar gaat de schoolreis van het vierde leerjaar naartoe?"
    swim = "Hoeveel kost een zwembeurt?"
    generations = [live_chunks(school_settings)]
    note = "# Schoolreis\n\nDe schoolreis van het vierde leerjaar gaat op 5 juni 2027 naar Planckendael.\n".encode()

    with Askers(shared, [FRUIT_QUESTION, trip, swim]) as askers:
        time.sleep(0.3)
        at.get("file_uploader")[0].set_value(("schoolreis.md", note, "text/markdown"))
        at.run()
        next(b for b in at.button if b.label == "Toevoegen en indexeren").click().run()
        assert "Toegevoegd: schoolreis.md" in at.success[0].value
        uploaded = time.monotonic()
        generations.append(live_chunks(school_settings))
        time.sleep(0.5)
        at.selectbox(key="remove_source").set_value("zwemles.md").run()
        next(b for b in at.button if b.label == "Verwijderen en index bijwerken").click().run()
        assert "Verwijderd: zwemles.md" in at.success[0].value
        removed = time.monotonic()
        generations.append(live_chunks(school_settings))
        time.sleep(0.5)
    assert not at.exception, at.exception

    assert askers.errors == []
    for _, question, answer in askers.answers:
        cited = {c.hit.chunk.id for c in answer.citations}
        assert any(cited <= set(g) for g in generations), f"{question!r} mixes generations"
    assert any("Planckendael" in a.text for t, q, a in askers.answers if q == trip and t > uploaded)
    after_removal = [a for t, q, a in askers.answers if q == swim and t > removed + 0.1]
    assert after_removal and all(c.hit.chunk.source != "zwemles.md" for a in after_removal for c in a.citations)
    figures.append(
        f"Upload en verwijdering via Documenten terwijl 3 sessies vragen: {len(askers.answers)} antwoorden, "
        f"{len(askers.errors)} fouten, elk uit één generatie; het nieuwe document beantwoordt meteen vragen, "
        "het verwijderde wordt niet meer geciteerd."
    )
