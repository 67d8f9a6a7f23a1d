"""A small JSON HTTP API: `POST /ask`, `GET /health`, `GET /documents` (`vraagpunt serve-api`).

Stateless: a request carries everything an answer depends on (the question, the conversation so far,
a filter), and every replica reads the same index, so any replica behind a load balancer gives the
same answer. `POST /ask` answers in the CLI's JSON contract (`vraagpunt ask --json`), or as server-sent
events when the client asks for `text/event-stream` (or sends `"stream": true`): `delta` events with
pieces of text, then one `answer` event with the whole contract.

Answers are computed in a bounded pool of worker threads (`VRAAGPUNT_API_WORKERS`, default one per
core): 2 cores answer 2 questions at a time faster than 50 at once. Requests beyond the pool wait; past
`VRAAGPUNT_API_QUEUE` waiting requests the API answers 503 with Retry-After instead of queueing more.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from vraagpunt.errors import VraagpuntError
from vraagpunt.jsonl import check_question
from vraagpunt.settings import Settings
from vraagpunt.types import Answer, answer_to_dict

log = logging.getLogger("vraagpunt.api")
KINDS = ("faq", "report", "webpage")
BUSY = "Vraagpunt is even erg druk. Probeer het over een paar seconden opnieuw."
_DONE = object()


def make_app(settings: Settings, assistant=None) -> Starlette:
    """The API for these settings; `assistant` for tests that already have one."""
    state: dict = {"assistant": assistant, "problem": ""}
    limiter = anyio.CapacityLimiter(settings.api_workers)
    building = threading.Lock()

    def current_assistant():
        """The shared Assistant, built at the first request that finds none (the index may come later)."""
        if state["assistant"] is None:
            with building:
                if state["assistant"] is None:
                    from retrieval.assistant import make_assistant

                    built = make_assistant(settings)
                    built.searcher.chunks()  # load the index now, not in the middle of a question
                    state["assistant"] = built
        return state["assistant"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:  # warm up before the first user: load the index and the model
            await anyio.to_thread.run_sync(_warm, current_assistant)
        except VraagpuntError as exc:
            log.warning("starting without an index: %s", exc)
        yield

    async def health(request: Request) -> Response:
        try:
            info = await anyio.to_thread.run_sync(_health, current_assistant, limiter=limiter)
        except VraagpuntError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok", **info})

    async def documents(request: Request) -> Response:
        try:
            listed = await anyio.to_thread.run_sync(_documents, current_assistant, limiter=limiter)
        except VraagpuntError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)
        return JSONResponse({"documents": listed})

    async def ask(request: Request) -> Response:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"error": "Stuur een JSON-object, bv. {\"question\": \"Wat is een begeleidingsproject?\"}."},
                                status_code=400)
        problems = _problems(body)
        if problems:
            return JSONResponse({"error": "; ".join(problems)}, status_code=400)
        pool = limiter.statistics()
        if pool.borrowed_tokens >= pool.total_tokens and pool.tasks_waiting >= settings.api_queue:
            return JSONResponse({"error": BUSY}, status_code=503, headers={"Retry-After": "1"})
        question, history, search_filter = _request(body)
        streaming = body.get("stream") is True or "text/event-stream" in request.headers.get("accept", "")
        if streaming:
            return StreamingResponse(_events(current_assistant, limiter, question, history, search_filter, body.get("id")),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        try:
            answer = await anyio.to_thread.run_sync(
                lambda: current_assistant().ask(question, history, search_filter), limiter=limiter)
        except VraagpuntError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)
        return JSONResponse(answer_to_dict(answer, id=body.get("id")))

    routes = [
        Route("/ask", ask, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/documents", documents, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _warm(current_assistant) -> None:
    assistant = current_assistant()
    assistant.searcher.query_vector("opwarmen")


def _health(current_assistant) -> dict:
    snap = current_assistant().searcher.snapshot()
    return {
        "generation": snap.state.collection,
        "embedder": snap.state.embedder,
        "updated": snap.state.updated,
        "documents": len({c.source for c in snap.chunks}),
        "passages": len(snap.chunks),
    }


def _documents(current_assistant) -> list[dict]:
    by_source: dict[str, dict] = {}
    for chunk in current_assistant().searcher.snapshot().chunks:
        item = by_source.setdefault(chunk.source, {"source": chunk.source, "title": chunk.title, "kind": chunk.kind,
                                                   "url": chunk.url, "passages": 0, "pages": 0})
        item["passages"] += 1
        item["pages"] = max(item["pages"], chunk.page_end)
    return sorted(by_source.values(), key=lambda d: (d["title"].lower(), d["source"]))


def _problems(body: object) -> list[str]:
    if not isinstance(body, dict):
        return ["stuur een JSON-object met minstens 'question'"]
    problems = check_question(body)
    kinds = body.get("kind", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
        problems.append(f"'kind' moet een of meer zijn van {', '.join(KINDS)}")
    if "stream" in body and not isinstance(body["stream"], bool):
        problems.append("'stream' moet true of false zijn")
    return problems


def _request(body: dict):
    from retrieval.search import SearchFilter

    kinds = body.get("kind") or []
    kinds = [kinds] if isinstance(kinds, str) else kinds
    return body["question"], body.get("history") or [], SearchFilter(kinds=tuple(kinds))


async def _events(current_assistant, limiter, question, history, search_filter, request_id) -> AsyncIterator[str]:
    """Server-sent events: the answer's text as it is produced, then the whole answer."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def produce() -> None:
        try:
            for item in current_assistant().stream(question, history, search_filter):
                loop.call_soon_threadsafe(queue.put_nowait, item)
        except VraagpuntError as exc:
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    worker = asyncio.ensure_future(anyio.to_thread.run_sync(produce, limiter=limiter))
    try:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, Answer):
                yield _event("answer", answer_to_dict(item, id=request_id))
            elif isinstance(item, VraagpuntError):
                yield _event("error", {"error": str(item)})
            else:
                yield _event("delta", {"text": item})
    finally:
        await worker


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(make_app(settings), host=host or settings.api_host, port=port or settings.api_port,
                log_level="warning", access_log=False)
