"""The `vraagpunt` CLI as a second process next to the test (the app's stand-in), and its writer lock."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "vraagpunt"


def cli_env(settings) -> dict:
    return {**os.environ, "VRAAGPUNT_CORPUS_DIR": str(settings.corpus_dir), "VRAAGPUNT_DATA_DIR": str(settings.data_dir)}


def start_cli_ingest(settings, **popen) -> subprocess.Popen:
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen([str(BIN), "ingest"], env=cli_env(settings), **popen)


def lock_is_held(lock: Path) -> bool:
    if not lock.exists():
        return False
    with open(lock, "rb") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def wait_until_locked(settings, proc: subprocess.Popen | None = None, timeout: float = 120) -> bool:
    """Until another process holds the writer's lock (the ingest really started); False if `proc` ended first."""
    lock = settings.data_dir / "ingest.lock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock_is_held(lock):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.002)
    raise TimeoutError("the CLI ingest never took the writer's lock")
