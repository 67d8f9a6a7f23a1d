"""kill -9 at random moments of a CLI ingest (on the small generated corpus).

After each kill a fresh assistant answers from one complete generation (the previous one, or the new
one when the kill came after the pointer moved), and the next ingest completes and cleans up.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ingest.chunking import chunk_document
from ingest.pipeline import discover, ingest, load_corpus
from retrieval.assistant import make_assistant
from tests.conftest import live_chunks
from tests.processes import start_cli_ingest, wait_until_locked
from tests.school import FRUIT_QUESTION, NEW_DAY, OLD_DAY, change_corpus, restore_corpus
from vraagpunt.index import POINTER_FILE, PUBLISHED, open_index

pytestmark = pytest.mark.slow

TIMED_KILLS = 8
# Kills timed on what the writer does: when its new generation folder appears (and a little later,
# while it writes), and the moment the folder is marked complete.
EVENT_KILLS = [("map", 0.0), ("map", 0.05), ("map", 0.2), ("klaar", 0.0)]


def expected_ids(settings) -> set[str]:
    """The chunk ids an ingest of the corpus as it is now would make live."""
    documents, _ = load_corpus(settings, discover(settings))
    return {c.id for d in documents for c in chunk_document(d, size=settings.chunk_size, overlap=settings.chunk_overlap)}


def live(settings) -> tuple[str, set[str]]:
    """The live generation's name and chunk ids."""
    return open_index(settings).state().collection, set(live_chunks(settings))


def wait_for(root: Path, old: str, what: str, proc: subprocess.Popen, timeout: float = 120) -> bool:
    """Until a new generation folder exists ("map") or is marked complete ("klaar"); False if the ingest ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        folders = [p for p in root.iterdir() if p.is_dir() and p.name != old and not p.name.startswith(".")]
        if folders and (what == "map" or any((p / PUBLISHED).exists() for p in folders)):
            return True
        time.sleep(0.002)
    return False


def test_kill_9_during_an_ingest_never_costs_the_index(school_settings, embedder, figures):
    settings = school_settings
    root = settings.data_dir / "index"
    rnd = random.Random(14)

    # How long the CLI ingest of the change (and of undoing it) works once it holds the writer's lock,
    # so the timed kills spread over its work rather than over its start-up.
    full = {}
    for changing, edit in ((True, change_corpus), (False, restore_corpus)):
        edit(settings.corpus_dir)
        proc = start_cli_ingest(settings)
        wait_until_locked(settings, proc)
        started = time.monotonic()
        assert proc.wait(timeout=300) == 0
        full[changing] = time.monotonic() - started

    plan = [("tijd", rnd.uniform(0.1, 0.95)) for _ in range(TIMED_KILLS)] + EVENT_KILLS
    outcomes = []
    for trial, (trigger, delay) in enumerate(plan):
        before, before_ids = live(settings)
        changing = trial % 2 == 0  # alternate: change the corpus, then undo the change
        (change_corpus if changing else restore_corpus)(settings.corpus_dir)
        target_ids = expected_ids(settings)

        proc = start_cli_ingest(settings)
        reached = True
        if trigger == "tijd":
            reached = wait_until_locked(settings, proc)
            time.sleep(delay * full[changing])
        else:
            reached = wait_for(root, before, trigger, proc)
            time.sleep(delay)
        running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert reached, f"trial {trial}: the ingest ended before the {trigger!r} moment"

        # A fresh process's view: the live generation is whole, and a question is answered from it.
        now, now_ids = live(settings)
        moved = now != before
        assert now_ids == (target_ids if moved else before_ids), f"trial {trial}: a partial generation is live"
        answer = make_assistant(settings).ask(FRUIT_QUESTION)
        new_text = changing == moved  # the live corpus version says donderdag
        assert not answer.refused and (NEW_DAY if new_text else OLD_DAY) in answer.text, (trial, answer.text)
        assert {c.hit.chunk.id for c in answer.citations} <= now_ids

        # The next ingest completes, and nothing the killed one wrote is left behind.
        ingest(settings, embedder, open_index(settings))
        assert live(settings)[1] == target_ids
        leftovers = [p.name for p in root.iterdir() if p.is_dir() and not (p / PUBLISHED).exists()]
        assert leftovers == [], f"trial {trial}: unfinished generations left: {leftovers}"
        assert (root / POINTER_FILE).is_file()
        outcomes.append((running, moved))

    survived = len(outcomes)
    hit = sum(running for running, _ in outcomes)
    assert hit >= 10  # at least ten kills hit an ingest that was still running
    after_pointer = sum(moved for _, moved in outcomes)
    figures.append(
        f"kill -9 tijdens een CLI-ingest: {survived} van {len(plan)} proeven doorstaan; {TIMED_KILLS} op een willekeurig "
        f"moment binnen de {full[True]:.1f} of {full[False]:.1f} s dat de ingest werkt (na het opstarten), "
        f"{len(EVENT_KILLS)} op het schrijven en afronden van de nieuwe generatie; {hit} troffen een lopende ingest. "
        f"Daarna antwoordde {survived - after_pointer} keer de vorige generatie en {after_pointer} keer de nieuwe "
        "(kill na het verzetten van de wijzer); telkens voltooide de volgende ingest zonder resten."
    )
