"""`vraagpunt ask` end to end, as a user (or the eval harness) runs it: a subprocess on the real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

VRAAGPUNT = Path(sys.executable).parent / "vraagpunt"
CITATION_FIELDS = {"n", "source", "title", "kind", "page", "section", "text", "score"}
ANSWER_FIELDS = {"id", "question", "standalone_question", "answer", "direct_answer", "refused", "answerability", "mode",
                 "citations", "timings_ms", "uncertain"}


@pytest.fixture(scope="module")
def run_cli(corpus_settings, tmp_path_factory):
    """Run the installed `vraagpunt` command against the session's index, isolated from any `.env`."""
    home = tmp_path_factory.mktemp("cli-home")
    env = {
        **os.environ,
        "VRAAGPUNT_DATA_DIR": str(corpus_settings.data_dir),
        "VRAAGPUNT_CORPUS_DIR": str(corpus_settings.corpus_dir),
        "VRAAGPUNT_ANSWERER": "extractive",
        "HOME": str(home),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(VRAAGPUNT), *args], env=env, cwd=home, capture_output=True, text=True, timeout=300
        )

    return run


def test_questions_file_gives_one_json_line_per_question_in_order(run_cli, tmp_path):
    questions = [
        {"id": "q-overhead", "question": "Mag ik indirecte kosten zoals overhead meerekenen in de begroting van een valorisatieproject?"},
        {"id": "q-out", "question": "Hoeveel kost een parkeerkaart in Gent?"},
        {
            "id": "q-followup",
            "question": "en hoeveel overhead mag daarbij?",
            "history": [
                {"role": "user", "content": "Ik wil een voorstel indienen voor de oproep rond valorisatieproducten."},
                {"role": "assistant", "content": "Elk project kan een maximum van €30.000 aanvragen. [1]"},
            ],
        },
    ]
    path = tmp_path / "vragen.jsonl"
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in questions) + "\n", encoding="utf-8")

    result = run_cli("ask", "--questions", str(path), "--json")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    answers = [json.loads(line) for line in lines]
    assert [a["id"] for a in answers] == ["q-overhead", "q-out", "q-followup"]
    assert [a["question"] for a in answers] == [q["question"] for q in questions]
    for a in answers:
        assert ANSWER_FIELDS <= a.keys()
        assert set(a["timings_ms"]) >= {"retrieve", "answer", "total"}
        assert a["mode"] == "extractive"
        for c in a["citations"]:
            assert CITATION_FIELDS <= c.keys()
        assert [c["n"] for c in a["citations"]] == list(range(1, len(a["citations"]) + 1))
    overhead, out, followup = answers
    assert not overhead["refused"] and "10%" in overhead["answer"]
    assert overhead["direct_answer"] and all(d in overhead["answer"] for d in overhead["direct_answer"])
    assert out["refused"]
    assert "valorisatie" in followup["standalone_question"].lower()


def test_bad_lines_are_all_reported_with_their_numbers_before_anything_is_answered(run_cli, tmp_path):
    path = tmp_path / "kapot.jsonl"
    path.write_text(
        '{"id": 1, "question": "Wat is een begeleidingsproject?"}\n'
        '{"id": 2, "question": \n'
        '\n'
        '{"id": 4, "vraag": "geen question-veld"}\n'
        '{"id": 5, "question": "en daarna?", "history": [{"role": "bot", "content": "x"}]}\n'
        '["geen", "object"]\n',
        encoding="utf-8",
    )

    result = run_cli("ask", "--questions", str(path), "--json")

    assert result.returncode == 1 and result.stdout == ""
    assert "kapot.jsonl heeft 4 fout(en)" in result.stderr
    assert "regel 2: geen geldige JSON" in result.stderr
    assert "regel 4: 'question' ontbreekt" in result.stderr
    assert "regel 5: history-beurt 1 heeft role 'bot'" in result.stderr
    assert "regel 6: moet een JSON-object" in result.stderr
    assert "Traceback" not in result.stderr


def test_single_question_prints_the_answer_with_its_sources(run_cli):
    result = run_cli("ask", "Met hoeveel scholen gaat een begeleidingsproject minstens van start?")

    assert result.returncode == 0, result.stderr
    assert "Bronnen:" in result.stdout
    assert "[1]" in result.stdout
