"""The `vraagpunt` console script end to end, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vraagpunt.errors import ConfigError
from vraagpunt.settings import Settings

BIN = Path(sys.executable).parent / "vraagpunt"


def _run(args, env):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=600)


@pytest.mark.slow
def test_ingest_then_search_json(tmp_path, small_corpus):
    env = {"VRAAGPUNT_CORPUS_DIR": str(small_corpus), "VRAAGPUNT_DATA_DIR": str(tmp_path / "data")}
    first = _run(["ingest"], env)
    assert first.returncode == 0, first.stderr
    assert "2 documenten" in first.stdout and "0 ongewijzigd" in first.stdout
    second = _run(["ingest"], env)
    assert "0 nieuw" in second.stdout and "0 verwijderd" in second.stdout

    found = _run(["search", "hoeveel scholen worden minstens begeleid bij de start?", "--k", "5", "--json"], env)
    assert found.returncode == 0, found.stderr
    payload = json.loads(found.stdout)
    assert payload["question"].startswith("hoeveel scholen")
    assert [h["rank"] for h in payload["hits"]] == [1, 2, 3, 4, 5]
    assert set(payload["hits"][0]) == {"rank", "source", "title", "kind", "page", "page_end", "section", "text", "score"}
    assert any("minimum vijf scholen" in h["text"] for h in payload["hits"])

    human = _run(["search", "extra middelen voor zorg"], env)
    assert "Extra middelen voor zorg op school" in human.stdout


def test_errors_are_dutch_and_clean(tmp_path):
    env = {"VRAAGPUNT_DATA_DIR": str(tmp_path / "leeg")}
    result = _run(["search", "wat is leerpunt?"], env)
    assert result.returncode == 1
    assert "vraagpunt ingest" in result.stderr and "Traceback" not in result.stderr
    bad = _run(["search", "x"], {"VRAAGPUNT_CHROMA_MODE": "cloud"})
    assert bad.returncode == 1 and "VRAAGPUNT_CHROMA_MODE" in bad.stderr


def test_settings_precedence(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("VRAAGPUNT_TOP_K=7\nVRAAGPUNT_DENSE_WEIGHT=0.5\n", encoding="utf-8")
    settings = Settings.load(environ={"VRAAGPUNT_TOP_K": "3"}, dotenv=dotenv)
    assert settings.top_k == 3 and settings.dense_weight == 0.5
    with pytest.raises(ConfigError, match="VRAAGPUNT_ANSWERER"):
        Settings.load(environ={"VRAAGPUNT_ANSWERER": "gpt"}, dotenv=dotenv)
    with pytest.raises(ConfigError, match="VRAAGPUNT_TOP_K"):
        Settings.load(environ={"VRAAGPUNT_TOP_K": "veel"}, dotenv=dotenv)
