"""Thumbs and comments on answers, kept in a small SQLite database (settings.feedback_db)."""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from vraagpunt.errors import storage_error

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    question TEXT NOT NULL,
    standalone_question TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL DEFAULT 0,
    citations TEXT NOT NULL DEFAULT '[]',
    thumbs INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
)
"""
_COLUMNS = "created, question, standalone_question, answer, refused, citations, thumbs, comment"
NOT_SAVED = "Je feedback is ontvangen, maar nog niet opgeslagen: {why} Vraagpunt bewaart hem zodra dat weer kan."
CSV_HEADER = ["id", "tijdstip", "vraag", "gelezen als", "antwoord", "geweigerd", "duim", "opmerking", "bronnen"]


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    created: float
    question: str
    standalone_question: str
    answer: str
    refused: bool
    citations: list[dict]
    thumbs: int  # 1 = thumbs up, 0 = thumbs down (st.feedback's values)
    comment: str


@dataclass
class _Waiting:
    """A judgement the database could not take yet (disk full, read-only); written at the next chance."""

    values: dict
    changes: list[dict] = field(default_factory=list)


class FeedbackStore:
    """Feedback rows in SQLite (WAL), one short-lived connection per call: safe across sessions and processes.

    When the disk refuses a write (full, read-only, the folder deleted), the row waits in memory, `problem`
    says why in Dutch, and every later call writes the waiting rows first: no judgement is lost while
    the app runs.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._waiting: dict[int, _Waiting] = {}  # provisional (negative) id -> row
        self._next_provisional = -1
        self._stored_ids: dict[int, int] = {}  # provisional id -> id it got when it was written
        self.problem = ""
        try:
            self._prepare()
        except (sqlite3.Error, OSError) as exc:  # the app must start even when its data folder is read-only
            self._note(exc)

    def _prepare(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never block writers; kept in the file
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection that commits (or rolls back) and closes at the end of the block."""
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def add(
        self,
        question: str,
        answer: str,
        citations: list[dict],
        thumbs: int,
        comment: str = "",
        *,
        standalone_question: str = "",
        refused: bool = False,
    ) -> int:
        """Store one judgement and return its id (to attach a comment later); negative while it waits."""
        values = {
            "created": time.time(), "question": question, "standalone_question": standalone_question,
            "answer": answer, "refused": int(refused), "citations": json.dumps(citations, ensure_ascii=False),
            "thumbs": int(thumbs), "comment": comment,
        }
        with self._lock:
            provisional = self._next_provisional
            self._next_provisional -= 1
            self._waiting[provisional] = _Waiting(values)
            self._write_waiting()
            return self._stored_ids.get(provisional, provisional)

    def update(self, row_id: int, *, thumbs: int | None = None, comment: str | None = None) -> None:
        """Change the thumbs or the comment of an existing row (the user changed their mind)."""
        change: dict = {} if thumbs is None else {"thumbs": int(thumbs)}
        if comment is not None:
            change["comment"] = comment
        with self._lock:
            row_id = self._stored_ids.get(row_id, row_id)
            if row_id in self._waiting:
                self._waiting[row_id].values.update(change)
                self._write_waiting()
                return
            self._waiting[self._next_provisional] = _Waiting({}, [{"id": row_id, **change}])
            self._next_provisional -= 1
            self._write_waiting()

    def flush(self) -> bool:
        """Write the rows that wait; True when nothing waits any more."""
        with self._lock:
            self._write_waiting()
            return not self._waiting

    @property
    def waiting(self) -> int:
        """How many judgements wait for the disk."""
        return len(self._waiting)

    def _write_waiting(self) -> None:
        """Write every waiting row in one transaction; on failure they all keep waiting. Call with the lock held."""
        if not self._waiting:
            return
        written: dict[int, int] = {}
        try:
            self._prepare()  # recreates a deleted folder or database
            with self._connect() as db:
                for provisional, row in self._waiting.items():
                    if row.values:
                        cursor = db.execute(
                            f"INSERT INTO feedback ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            tuple(row.values[c.strip()] for c in _COLUMNS.split(",")),
                        )
                        written[provisional] = int(cursor.lastrowid)
                    for change in row.changes:
                        if "thumbs" in change:
                            db.execute("UPDATE feedback SET thumbs = ? WHERE id = ?", (change["thumbs"], change["id"]))
                        if "comment" in change:
                            db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (change["comment"], change["id"]))
        except (sqlite3.Error, OSError) as exc:
            self._note(exc)
            return
        self._stored_ids.update(written)
        self._waiting.clear()
        self.problem = ""

    def _note(self, exc: BaseException) -> None:
        problem = str(storage_error(exc, self.path.parent, "je feedback") or exc)
        log.warning("feedback not stored, %d row(s) wait in memory: %s", len(self._waiting), problem)
        if problem.startswith("De schijf is vol"):
            why = "de schijf is vol."
        elif "alleen-lezen" in problem:
            why = "de map van Vraagpunt is alleen-lezen."
        else:
            why = "de feedbackdatabase is niet bereikbaar."
        self.problem = NOT_SAVED.format(why=why)

    def recent(self, limit: int = 20, thumbs: int | None = None) -> list[FeedbackRow]:
        """The newest rows first, optionally only thumbs up (1) or down (0)."""
        query = f"SELECT id, {_COLUMNS} FROM feedback"
        params: tuple = ()
        if thumbs is not None:
            query += " WHERE thumbs = ?"
            params = (int(thumbs),)
        query += " ORDER BY created DESC, id DESC LIMIT ?"
        with self._connect() as db:
            rows = db.execute(query, (*params, limit)).fetchall()
        return [
            FeedbackRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), json.loads(r[6] or "[]"), r[7], r[8]) for r in rows
        ]

    def counts(self) -> dict[str, int]:
        """How many thumbs up and down there are, and the total."""
        with self._connect() as db:
            up, down = db.execute(
                "SELECT COALESCE(SUM(thumbs = 1), 0), COALESCE(SUM(thumbs = 0), 0) FROM feedback"
            ).fetchone()
        return {"up": int(up), "down": int(down), "total": int(up) + int(down)}

    def export_csv(self) -> bytes:
        """Every stored row as CSV for a spreadsheet (UTF-8 with BOM, oldest first).

        Questions and comments are typed by users: a cell that a spreadsheet would run as a formula
        (=, +, -, @) starts with a quote.
        """
        with self._connect() as db:
            rows = db.execute(f"SELECT id, {_COLUMNS} FROM feedback ORDER BY created, id").fetchall()
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(CSV_HEADER)
        for r in rows:
            sources = "; ".join(
                " ".join(str(c.get(k) or "") for k in ("title", "page")).strip() for c in json.loads(r[6] or "[]")
            )
            writer.writerow([_cell(v) for v in (
                r[0], datetime.fromtimestamp(r[1]).strftime("%Y-%m-%d %H:%M:%S"), r[2], r[3], r[4],
                "ja" if r[5] else "nee", "omhoog" if r[7] == 1 else "omlaag", r[8], sources,
            )])
        return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
