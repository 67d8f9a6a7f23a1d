"""Reading JSONL input files (evaluation sets, batches of questions): every bad line reported at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from vraagpunt.errors import InputError

Check = Callable[[dict], list[str]]  # problems of one record, in Dutch, empty when it is sound


def read_records(path: Path, check: Check, *, what: str = "bestand") -> list[tuple[int, dict]]:
    """(line number, record) for every non-empty line; raises InputError listing each bad line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputError(f"{what.capitalize()} {path} bestaat niet; geef een bestaand JSONL-bestand op.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what.capitalize()} {path} kan niet gelezen worden ({exc}); "
                         "bewaar het als UTF-8-tekst met één JSON-object per regel.") from exc
    records: list[tuple[int, dict]] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"regel {number}: geen geldige JSON ({exc.msg}, kolom {exc.colno})")
            continue
        if not isinstance(record, dict):
            problems.append(f"regel {number}: moet een JSON-object {{…}} zijn, niet {type(record).__name__}")
            continue
        bad = check(record)
        problems.extend(f"regel {number}: {p}" for p in bad)
        if not bad:
            records.append((number, record))
    if problems:
        shown = problems[:20] + ([f"… en nog {len(problems) - 20} problemen"] if len(problems) > 20 else [])
        raise InputError(f"{path} heeft {len(problems)} fout(en); verbeter ze en probeer opnieuw:\n  "
                         + "\n  ".join(shown))
    return records


def check_history(record: dict) -> list[str]:
    """Problems with an optional `history`: a list of {"role": "user"|"assistant", "content": text}."""
    history = record.get("history")
    if history is None:
        return []
    if not isinstance(history, list):
        return ["history moet een lijst van beurten zijn"]
    problems = []
    for i, turn in enumerate(history, start=1):
        if not isinstance(turn, dict) or not isinstance(turn.get("content"), str):
            problems.append(f"history-beurt {i} moet een object met een tekst in 'content' zijn")
        elif turn.get("role") not in ("user", "assistant"):
            problems.append(f"history-beurt {i} heeft role {turn.get('role')!r}; kies 'user' of 'assistant'")
    return problems


def check_question(record: dict) -> list[str]:
    """Problems with the required `question` and the optional `id` and `history`."""
    problems = []
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        problems.append("'question' ontbreekt of is leeg")
    if "id" in record and not isinstance(record["id"], (str, int)):
        problems.append("'id' moet tekst of een getal zijn")
    return problems + check_history(record)
