"""A feedback writer for a process of its own (multiprocessing "spawn"): it imports only the feedback store."""

from __future__ import annotations

from pathlib import Path

from app_pages.feedback import FeedbackStore


def write_rows(path: str, writer: int, rows: int) -> None:
    store = FeedbackStore(Path(path))
    for i in range(rows):
        store.add(f"vraag {writer}-{i}", "antwoord", [], i % 2, comment=f"schrijver {writer}")
