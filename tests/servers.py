"""Servers a test starts itself on 127.0.0.1 and stops again: a `chroma run` and `vraagpunt serve-api` replicas."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vraagpunt.localserver import free_port, wait_until_up

BIN = Path(sys.executable).parent


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def chroma_server(folder: Path) -> Iterator[int]:
    """A real `chroma run` persisting into `folder`; yields its port."""
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([str(BIN / "chroma"), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc)
        yield port
    finally:
        stop(proc)


def server_env(settings, **extra: str) -> dict:
    """The environment that points a `vraagpunt` process at the same index as `settings`."""
    env = {**os.environ, "VRAAGPUNT_CORPUS_DIR": str(settings.corpus_dir), "VRAAGPUNT_DATA_DIR": str(settings.data_dir),
           "VRAAGPUNT_CHROMA_MODE": settings.chroma_mode, "VRAAGPUNT_CHROMA_PORT": str(settings.chroma_port),
           "VRAAGPUNT_ANSWERER": "extractive"}
    return {**env, **extra}


@contextmanager
def api_replica(settings, **extra: str) -> Iterator[str]:
    """`vraagpunt serve-api` on a free port; yields its base URL once /health answers."""
    port = free_port()
    proc = subprocess.Popen([str(BIN / "vraagpunt"), "serve-api", "--port", str(port)], env=server_env(settings, **extra),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health", proc)
        yield url
    finally:
        stop(proc)
