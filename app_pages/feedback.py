"""Thumbs and comments on answers, kept in a small SQLite database (settings.feedback_db)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

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


class FeedbackStore:
    """Feedback rows in SQLite; one short-lived connection per call, so it is safe across app sessions."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

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
        """Store one judgement and return its id (to attach a comment later)."""
        with self._lock, self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created, question, standalone_question, answer, refused, citations, thumbs, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), question, standalone_question, answer, int(refused),
                 json.dumps(citations, ensure_ascii=False), int(thumbs), comment),
            )
            return int(cursor.lastrowid)

    def update(self, row_id: int, *, thumbs: int | None = None, comment: str | None = None) -> None:
        """Change the thumbs or the comment of an existing row (the user changed their mind)."""
        with self._lock, self._connect() as db:
            if thumbs is not None:
                db.execute("UPDATE feedback SET thumbs = ? WHERE id = ?", (int(thumbs), row_id))
            if comment is not None:
                db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment, row_id))

    def recent(self, limit: int = 20, thumbs: int | None = None) -> list[FeedbackRow]:
        """The newest rows first, optionally only thumbs up (1) or down (0)."""
        query = "SELECT id, created, question, standalone_question, answer, refused, citations, thumbs, comment FROM feedback"
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
