"""The JSON API as replicas behind a load balancer see it: `vraagpunt serve-api` processes on 127.0.0.1,
on the small generated corpus, next to the in-process Assistant they must agree with."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from evals.loadtest import run_load
from retrieval.assistant import make_assistant
from retrieval.search import SearchFilter
from tests.retrieval.test_load import DISTINCT
from tests.school import CONVERSATIONS, OUT_OF_CORPUS
from tests.servers import api_replica
from vraagpunt.types import answer_to_dict

pytestmark = pytest.mark.slow


def _seen(answer: dict) -> dict:
    """The contract without the timings, which differ from run to run."""
    return {k: v for k, v in answer.items() if k != "timings_ms"}


@pytest.fixture(scope="module")
def school(tmp_path_factory, embedder):
    from tests.conftest import build_school_index

    return build_school_index(tmp_path_factory.mktemp("api"), embedder)


@pytest.fixture(scope="module")
def replicas(school):
    with api_replica(school) as first, api_replica(school) as second:
        yield first, second


def _post(url: str, body: dict, **kwargs) -> httpx.Response:
    return httpx.post(f"{url}/ask", json=body, timeout=60, trust_env=False, **kwargs)


def test_health_and_documents(replicas):
    url = replicas[0]
    health = httpx.get(f"{url}/health", trust_env=False).json()
    assert health["status"] == "ok" and health["documents"] == 5 and health["passages"] >= 5
    documents = httpx.get(f"{url}/documents", trust_env=False).json()["documents"]
    assert {d["source"] for d in documents} == {"schoolfruit.md", "zwemles.md", "bibliotheek.md", "fietsen.md",
                                                 "oudercontact.html"}
    assert next(d for d in documents if d["source"] == "fietsen.md")["kind"] == "faq"


def test_two_replicas_answer_as_the_cli_contract_does(school, replicas):
    assistant = make_assistant(school)
    question, follow_up = CONVERSATIONS[0]
    first = assistant.ask(question)
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": first.text}]
    requests = [
        ({"id": "q1", "question": question}, (question, [], None)),
        ({"id": 2, "question": follow_up, "history": history}, (follow_up, history, None)),
        ({"question": "Waar stal ik mijn fiets?", "kind": ["faq"]}, ("Waar stal ik mijn fiets?", [], SearchFilter(kinds=("faq",)))),
        ({"question": OUT_OF_CORPUS}, (OUT_OF_CORPUS, [], None)),
    ]
    for body, (q, h, f) in requests:
        expected = _seen(answer_to_dict(assistant.ask(q, h, f), id=body.get("id")))
        got = [_post(url, body) for url in replicas]
        assert [r.status_code for r in got] == [200, 200]
        assert [_seen(r.json()) for r in got] == [expected, expected]
        assert set(got[0].json()["timings_ms"]) >= {"retrieve", "answer", "total"}
    assert "(vervolg op:" in _post(replicas[1], requests[1][0]).json()["standalone_question"]
    assert _post(replicas[0], requests[3][0]).json()["refused"] is True


def test_ask_streams_server_sent_events(replicas):
    body = {"question": "Hoeveel kost een zwembeurt?"}
    with httpx.stream("POST", f"{replicas[0]}/ask", json=body, headers={"Accept": "text/event-stream"},
                      timeout=60, trust_env=False) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [block for block in response.read().decode().split("\n\n") if block]
    parsed = [(e.split("\n")[0].removeprefix("event: "), json.loads(e.split("\n")[1].removeprefix("data: "))) for e in events]
    names = [name for name, _ in parsed]
    assert names[-1] == "answer" and set(names[:-1]) == {"delta"} and len(names) > 3
    answer = parsed[-1][1]
    assert "".join(data["text"] for _, data in parsed[:-1]) == answer["answer"]
    assert "2 euro" in answer["answer"] and answer["citations"]
    assert _seen(answer) == _seen(_post(replicas[1], {**body, "stream": False}).json())


def test_bad_requests_get_a_dutch_reason(replicas):
    url = replicas[0]
    for body, needle in (({"vraag": "x"}, "'question' ontbreekt"), ({"question": "x", "kind": "boek"}, "'kind'"),
                         ({"question": "x", "history": [{"role": "bot", "content": "y"}]}, "role 'bot'")):
        response = _post(url, body)
        assert response.status_code == 400 and needle in response.json()["error"]
    response = httpx.post(f"{url}/ask", content=b"{kapot", timeout=10, trust_env=False)
    assert response.status_code == 400 and "JSON" in response.json()["error"]


def test_a_full_queue_says_busy_instead_of_queueing_more(school):
    # One worker and no waiting room: of eight questions at once, some are told to come back (503, Retry-After),
    # none fails in another way, and those answered are answered in full.
    questions = [f"{q} ({i})" for i, (q, _) in enumerate(CONVERSATIONS * 2)][:8]
    with api_replica(school, VRAAGPUNT_API_WORKERS="1", VRAAGPUNT_API_QUEUE="0") as url:
        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(lambda q: _post(url, {"question": q}), questions))
    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 503} and 200 in codes and 503 in codes, codes
    assert all(r.headers["Retry-After"] == "1" and "druk" in r.json()["error"] for r in responses if r.status_code == 503)
    assert all(r.json()["answer"] for r in responses if r.status_code == 200)


def test_bounded_load_on_one_replica(replicas, figures):
    # 500 different questions: no answer is helped by a query vector cached for another client.
    report = run_load(replicas[0], DISTINCT, clients=20, seconds=10)
    assert report.failures == [] and set(report.statuses) == {200}
    assert report.answered >= 40
    # A question asked by several clients at once got one and the same answer.
    assert all(len(answers) == 1 for answers in report.answers.values())
    assert sum(report.statuses.values()) == report.answered
    figures.append(f"API-belasting (klein corpus, 1 replica): {report.summary()}")
