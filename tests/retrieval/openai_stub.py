"""A scripted OpenAI-compatible chat endpoint: a real HTTP server on 127.0.0.1 for the LLM seam.

Each test scripts the replies in order (`stub.script(Reply(...), ...)`); the server records every
request so a test can read the prompt that was really sent.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class Reply:
    """One scripted response to one chat-completions request."""

    text: str = ""
    status: int = 200  # anything but 200 sends an OpenAI-style error body
    delay: float = 0.0  # seconds to wait before answering at all (longer than the client timeout = hang)
    drop_after: int | None = None  # stream this many content chunks, then cut the connection
    piece: int = 3  # characters per streamed chunk; small, so markers like [12] arrive split


class OpenAIStub:
    """POST /v1/chat/completions, streaming (SSE) or not, answered from a queue of Replies."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def next_reply(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return Reply("unscripted request", status=500)

    def record(self, request: dict) -> None:
        with self._lock:
            self.requests.append(request)

    def system_prompt(self, i: int = -1) -> str:
        return _messages(self.requests[i], "system")[0]

    def user_message(self, i: int = -1) -> str:
        return _messages(self.requests[i], "user")[-1]

    def start(self) -> OpenAIStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are "hanging"
        self._server.shutdown()
        self._server.server_close()

    def pause(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _messages(request: dict, role: str) -> list[str]:
    return [m["content"] for m in request["body"].get("messages", []) if m.get("role") == role]


def _handler(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # chunked bodies, so a cut connection is a visible error

        def log_message(self, format, *args) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            stub.record({"path": self.path, "body": body, "headers": dict(self.headers)})
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                return
            reply = stub.next_reply()
            if reply.delay:
                stub.pause(reply.delay)
            try:
                self._respond(reply, body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): that is the scenario under test

        def _respond(self, reply: Reply, body: dict) -> None:
            if reply.status != 200:
                self._json(reply.status, {"error": {"message": reply.text or "stub error", "type": "server_error"}})
            elif body.get("stream"):
                self._stream(reply, body.get("model", "stub"))
            else:
                self._json(200, _completion(reply.text, body.get("model", "stub")))

        def _json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, reply: Reply, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            pieces = [reply.text[i : i + reply.piece] for i in range(0, len(reply.text), reply.piece)]
            for sent, piece in enumerate(pieces):
                if reply.drop_after is not None and sent >= reply.drop_after:
                    self.wfile.flush()
                    self.close_connection = True  # no terminating chunk: the client sees a broken body
                    return
                self._event(_chunk(model, {"content": piece}, None))
            self._event(_chunk(model, {}, "stop"))
            self._send_chunk(b"data: [DONE]\n\n")
            self._send_chunk(b"")

        def _event(self, payload: dict) -> None:
            self._send_chunk(f"data: {json.dumps(payload)}\n\n".encode())

        def _send_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


def _chunk(model: str, delta: dict, finish: str | None) -> dict:
    return {
        "id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": finish}],
    }


def _completion(text: str, model: str) -> dict:
    return {
        "id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


@pytest.fixture
def openai_stub():
    """A started stub endpoint; stopped (and any hanging reply released) after the test."""
    stub = OpenAIStub().start()
    yield stub
    stub.stop()
