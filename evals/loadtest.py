"""A bounded load test of the JSON API: N clients ask questions for at most S seconds (and at most M
requests), on this machine only. Reports throughput and latency percentiles; never runs unbounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlparse

import numpy as np


@dataclass
class LoadReport:
    clients: int
    seconds: float  # wall time of the run
    latencies_ms: list[float] = field(default_factory=list)  # answered requests (200)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # connection errors and the like
    answers: dict[str, set[str]] = field(default_factory=dict)  # question -> the distinct answers it got

    @property
    def answered(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def throughput(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else 0.0

    def summary(self) -> str:
        busy = self.statuses.get(503, 0)
        return (f"{self.clients} clients, {self.seconds:.0f} s: {self.answered} antwoorden ({self.throughput:.1f}/s), "
                f"p50 {self.percentile(50):.0f} ms, p95 {self.percentile(95):.0f} ms, p99 {self.percentile(99):.0f} ms; "
                f"{busy} keer 'druk' (503), {len(self.failures)} fouten")


def _local_only(url: str) -> None:
    host = urlparse(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise ValueError(f"the load test only targets this machine, not {host!r}")


def run_load(url: str, questions: Sequence[str], clients: int = 20, seconds: float = 30.0,
             max_requests: int = 20_000, unique: bool = False) -> LoadReport:
    """`clients` concurrent clients POST /ask, each cycling through `questions` from its own offset,
    until `seconds` have passed or `max_requests` were sent. With `unique`, every request numbers its
    question ("… (17)"), so no answer is helped by a query vector the server cached for an earlier one."""
    _local_only(url)
    return asyncio.run(_run(url.rstrip("/"), list(questions), clients, seconds, max_requests, unique))


async def _run(url: str, questions: list[str], clients: int, seconds: float, max_requests: int,
               unique: bool) -> LoadReport:
    import httpx

    report = LoadReport(clients=clients, seconds=0.0)
    sent = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(number: int, http: httpx.AsyncClient) -> None:
        nonlocal sent
        i = number
        while time.monotonic() < deadline and sent < max_requests:
            sent += 1
            question = questions[i % len(questions)] + (f" ({sent})" if unique else "")
            i += 1
            started = time.perf_counter()
            try:
                response = await http.post(f"{url}/ask", json={"question": question})
            except httpx.HTTPError as exc:
                report.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
            if response.status_code == 200:
                report.latencies_ms.append((time.perf_counter() - started) * 1000)
                report.answers.setdefault(question, set()).add(response.json()["answer"])
            elif response.status_code == 503:
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120, limits=limits, trust_env=False) as http:
        await asyncio.gather(*(client(n, http) for n in range(clients)))
    report.seconds = time.perf_counter() - started
    return report
