"""The OpenAI-compatible generator backend against servers the tests start on 127.0.0.1: scripted ones for every
way an endpoint goes wrong (fast), and a thin server around the real default model that the whole pipeline runs
against, with `n`-sampling and a timeout (integration)."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.core.config import Config, GeneratorConfig
from engine.core.errors import StudyBuddyError
from engine.models.generator import build_generator
from engine.models.openai_backend import OpenAICompatibleGenerator, normalise_base_url
from engine.models.requests import GenerationRequest, Generator

MESSAGES = [{"role": "user", "content": "What causes rain?"}]


class Endpoint:
    """An OpenAI-compatible server in a thread. `reply(body) -> (status, payload)` answers each
    chat completion (payload: a dict sent as JSON, or bytes sent as they are); every request is recorded."""

    def __init__(self, reply, models=("tutor",)):
        self.reply = reply
        self.models = models
        self.calls: list[dict] = []
        self.headers: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path == "/v1/models" and endpoint.models is not None:
                    self._send(200, {"object": "list", "data": [{"id": m, "object": "model", "root": f"/models/{m}"} for m in endpoint.models]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.calls.append(body)
                endpoint.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "no such route"}})
                status, payload = endpoint.reply(body)
                self._send(status, payload)

            def _send(self, status, payload):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def completion(texts: list[str]) -> dict:
    return {
        "object": "chat.completion",
        "choices": [{"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"} for i, t in enumerate(texts)],
    }


def numbered(body):
    return 200, completion([f" answer {i} " for i in range(body["n"])])


def generator(url: str, **kwargs) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(url, kwargs.pop("model", "tutor"), **{"timeout_s": 5, "retries": 0, "backoff_s": 0.01, **kwargs})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the interface and the mapping of n ----------------------------------------------------------------------


def test_n_samples_are_one_request_with_n():
    with Endpoint(numbered) as server:
        gen = generator(server.url)
        assert isinstance(gen, Generator)
        out = gen.generate([GenerationRequest(MESSAGES, n=5, temperature=0.4, max_new_tokens=24)])
    assert out == [[f"answer {i}" for i in range(5)]]
    [call] = server.calls
    assert (call["n"], call["temperature"], call["max_tokens"], call["model"], call["messages"]) == (5, 0.4, 24, "tutor", MESSAGES)
    assert call["stop"] == ["\n\n"] and call["top_p"] == 0.95 and "seed" not in call


def test_a_seeded_generator_sends_its_seed_with_sampled_requests_only():
    with Endpoint(numbered) as server:
        gen = generator(server.url, seed=3)
        gen.generate([GenerationRequest(MESSAGES, n=2, temperature=0.4), GenerationRequest(MESSAGES, n=1, temperature=0.0)])
    assert sorted((c["temperature"], c.get("seed")) for c in server.calls) == [(0.0, None), (0.4, 3)]


def test_greedy_requests_in_one_call_keep_their_order():
    def echo(body):
        return 200, completion([body["messages"][-1]["content"].upper()])

    with Endpoint(echo) as server:
        requests = [GenerationRequest([{"role": "user", "content": f"question {i}"}], n=1, temperature=0.0, max_new_tokens=8) for i in range(6)]
        out = generator(server.url).generate(requests)
    assert out == [[f"QUESTION {i}"] for i in range(6)]
    assert all(c["temperature"] == 0.0 and "top_p" not in c for c in server.calls)


def test_a_server_returning_fewer_choices_is_asked_again_for_the_rest():
    with Endpoint(lambda body: (200, completion([f"one of {body['n']}"]))) as server:
        out = generator(server.url).generate([GenerationRequest(MESSAGES, n=3, temperature=0.7)])
    assert out == [["one of 3", "one of 2", "one of 1"]]
    assert [c["n"] for c in server.calls] == [3, 2, 1]


def test_model_name_base_url_and_api_key():
    with Endpoint(numbered, models=("only-model",)) as server:
        bare = server.url.removesuffix("/v1")
        gen = OpenAICompatibleGenerator(bare, "", timeout_s=5, retries=0, api_key="sekret")  # no model named: the only one
        assert gen.model == "only-model" and gen.base_url == server.url
        assert gen.manifest.kind == "endpoint" and gen.manifest.path == server.url and gen.manifest.source == "/models/only-model"
        gen.generate([GenerationRequest(MESSAGES)])
    assert server.calls[0]["model"] == "only-model" and server.headers[0]["Authorization"] == "Bearer sekret"
    assert normalise_base_url("http://h:8000/v1/") == "http://h:8000/v1"
    with pytest.raises(StudyBuddyError, match="not an http"):
        normalise_base_url("gpu-box:8000")


def test_config_builds_the_openai_backend(monkeypatch):
    monkeypatch.setenv("STUDYBUDDY_API_KEY", "from-env")
    with Endpoint(numbered) as server:
        config = Config(generator="tutor", generator_options=GeneratorConfig(backend="openai", base_url=server.url, timeout_s=3, retries=1))
        gen = build_generator(config)
        assert isinstance(gen, OpenAICompatibleGenerator) and (gen.timeout_s, gen.retries, gen.api_key) == (3.0, 1, "from-env")
    with pytest.raises(StudyBuddyError, match="needs a base_url"):
        build_generator(replace(config, generator_options=GeneratorConfig(backend="openai")))


# --- every way an endpoint goes wrong: a message, never a garbled answer -------------------------------------


def test_unreachable_endpoint():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(StudyBuddyError, match="cannot be reached") as err:
        OpenAICompatibleGenerator(url, "tutor", timeout_s=2, retries=1, backoff_s=0.01)
    assert "2 tries" in err.value.problem and "base_url" in err.value.fix


def test_timeout_after_retries():
    def slow(body):
        time.sleep(1.0)
        return numbered(body)

    with Endpoint(slow) as server:
        gen = generator(server.url, timeout_s=0.2, retries=1)
        start = time.perf_counter()
        with pytest.raises(StudyBuddyError, match=r"did not answer within 0.2 s \(2 tries\)") as err:
            gen.generate([GenerationRequest(MESSAGES, n=2)])
        assert time.perf_counter() - start < 2.0 and len(server.calls) == 2
        assert "timeout_s" in err.value.fix


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b'{"choices": [{"message": {"content": "cut off', "not JSON"),
        ({"object": "chat.completion", "choices": []}, "no choices"),
        ({"id": "x"}, "no choices"),
        ({"choices": [{"message": {"content": 42}}]}, "without a text message"),
        ({"error": {"message": "model overloaded"}}, "reported an error: model overloaded"),
    ],
)
def test_malformed_replies(payload, message):
    with Endpoint(lambda body: (200, payload)) as server:
        with pytest.raises(StudyBuddyError, match=message) as err:
            generator(server.url).generate([GenerationRequest(MESSAGES)])
    assert err.value.fix


def test_server_errors_are_retried_and_client_errors_explained():
    failures = iter([503, 500])

    def flaky(body):
        status = next(failures, 200)
        return (status, {"error": {"message": "warming up"}}) if status != 200 else numbered(body)

    with Endpoint(flaky) as server:
        assert generator(server.url, retries=2).generate([GenerationRequest(MESSAGES)]) == [["answer 0"]]
        assert len(server.calls) == 3
    with Endpoint(lambda body: (401, {"error": {"message": "bad key"}})) as server:
        with pytest.raises(StudyBuddyError, match="HTTP 401: bad key") as err:
            generator(server.url, retries=3).generate([GenerationRequest(MESSAGES)])
        assert "API key" in err.value.fix and len(server.calls) == 1


def test_tutor_refuses_when_the_endpoint_is_down(tmp_path):
    from engine.pipeline import Tutor

    url = f"http://127.0.0.1:{free_port()}/v1"
    tutor = Tutor(Config(home=tmp_path, generator_options=GeneratorConfig(backend="openai", base_url=url, retries=0)))
    with pytest.raises(StudyBuddyError, match="cannot be reached"):
        tutor.generator


# --- the real default model behind a thin server -------------------------------------------------------------


@pytest.fixture(scope="module")
def real_server():
    """POST /v1/chat/completions with n, temperature and max_tokens, answered by the real default model."""
    from engine.models.generator import TransformersGenerator, resolve_configured_checkpoint

    model = TransformersGenerator(resolve_configured_checkpoint(Config()), seed=0)
    lock = threading.Lock()

    def serve(body):
        request = GenerationRequest(body["messages"], n=body.get("n", 1), temperature=body.get("temperature", 0.0), max_new_tokens=body.get("max_tokens", 16))
        with lock:  # one forward pass at a time, as a single-GPU server queues them
            [texts] = model.generate([request])
        return 200, completion(texts)

    with Endpoint(serve, models=("smollm2-135m-instruct",)) as server:
        yield server


@pytest.mark.integration
def test_real_model_n_sampling_through_the_endpoint(real_server):
    gen = OpenAICompatibleGenerator(real_server.url, "smollm2-135m-instruct", timeout_s=120, retries=0)
    before = len(real_server.calls)
    [samples] = gen.generate([GenerationRequest(MESSAGES, n=3, temperature=0.8, max_new_tokens=8)])
    assert len(samples) == 3 and all(isinstance(s, str) for s in samples) and any(samples)
    [call] = real_server.calls[before:]
    assert call["n"] == 3 and call["max_tokens"] == 8


@pytest.mark.integration
def test_real_model_endpoint_timeout(real_server):
    gen = OpenAICompatibleGenerator(real_server.url, "smollm2-135m-instruct", timeout_s=0.05, retries=0)
    with pytest.raises(StudyBuddyError, match="did not answer within"):
        gen.generate([GenerationRequest(MESSAGES, n=4, temperature=0.8, max_new_tokens=48)])


@pytest.mark.integration
def test_pipeline_answers_through_the_endpoint_and_logs_its_manifest(real_server, sample_home):
    from engine.conversation_log import ConversationLog
    from engine.pipeline import Tutor

    base = Config(home=sample_home)
    config = replace(
        base,
        generator="smollm2-135m-instruct",
        generator_options=GeneratorConfig(backend="openai", base_url=real_server.url, timeout_s=300, retries=0),
        generation=replace(base.generation, max_new_tokens=24),
        verification=replace(base.verification, samples=3, cove_max_new_tokens=16),
    )
    before = len(real_server.calls)
    answer = Tutor(config).ask("What causes rain?")
    calls = real_server.calls[before:]
    assert answer.verdict is not None and answer.text
    assert any(c["n"] == 3 for c in calls), "the self-consistency samples are one request with n"
    assert sum(c["n"] for c in calls if c["n"] > 1) == 3
    payload = answer.to_json()
    assert payload["model"]["kind"] == "endpoint" and payload["model"]["path"] == real_server.url
    log = ConversationLog(sample_home / "logs" / "conversations.sqlite3")
    log.log_answer("s", "sample", answer)
    assert log.recent(1)[0]["model_manifest"]["spec"] == "smollm2-135m-instruct"
