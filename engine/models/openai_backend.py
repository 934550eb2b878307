"""The generator as an OpenAI-compatible HTTP endpoint, so a school can serve a bigger model on one GPU box (vLLM,
llama.cpp's server) and every StudyBuddy instance uses it.

Each request becomes one POST {base_url}/chat/completions with the request's `n`, `temperature` and
`max_tokens`, so N self-consistency samples cost one call (the server batches them and reads the prompt once);
only a server that returns fewer choices than asked gets further calls for the rest. The requests of one
`generate` call (the CoVe questions) go out concurrently, for the server to batch. Standard library only.

A server that cannot be reached, times out (after `retries` more tries), answers with an HTTP error or with
something that is not a chat completion raises StudyBuddyError saying what happened and what to do: the pipeline
never answers with a half-read reply.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from engine.core.errors import StudyBuddyError
from engine.core.packaged import PACKAGED_GENERATOR
from engine.models.manifest import ModelManifest
from engine.models.requests import GenerationRequest

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 429, 500, 502, 503, 504}
STOP = ["\n\n"]  # as the local backend: a blank line ends a tutor's answer


class OpenAICompatibleGenerator:
    def __init__(
        self,
        base_url: str,
        model: str = "",
        timeout_s: float = 60.0,
        retries: int = 2,
        api_key: str | None = None,
        *,
        max_workers: int = 8,
        check: bool = True,
        backoff_s: float = 0.5,
        seed: int | None = None,
    ):
        if not base_url:
            raise StudyBuddyError("The openai generator backend needs a base_url.", 'Set [generator] base_url = "http://host:8000/v1" (or --endpoint URL).')
        self.base_url = normalise_base_url(base_url)
        self.model = model
        self.timeout_s = float(timeout_s)
        self.retries = max(int(retries), 0)
        self.api_key = api_key
        self.max_workers = max_workers
        self.backoff_s = backoff_s
        self.seed = seed
        served = self._served_model() if check else None
        self.manifest = ModelManifest(
            spec=self.model,
            kind="endpoint",
            path=self.base_url,
            backend="openai",
            architecture=None,
            source=(served or {}).get("root") or None,
            vocab_size=None,
        )
        self.name = f"{self.model} at {self.base_url}"
        log.info("generator: %s", self.name)

    @classmethod
    def from_config(cls, config) -> "OpenAICompatibleGenerator":
        options = config.generator_options
        model = "" if config.generator == PACKAGED_GENERATOR else config.generator  # "": whatever the server serves
        api_key = os.environ.get(options.api_key_env) if options.api_key_env else None
        seed = config.generation.seed if config.generation.seed >= 0 else None
        return cls(options.base_url, model, timeout_s=options.timeout_s, retries=options.retries, api_key=api_key or None, seed=seed)

    # --- the interface --------------------------------------------------------------------------------------
    def generate(self, requests: list[GenerationRequest]) -> list[list[str]]:
        if len(requests) <= 1:
            return [self._complete(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(requests)), thread_name_prefix="studybuddy-endpoint") as pool:
            return list(pool.map(self._complete, requests))

    def _complete(self, request: GenerationRequest) -> list[str]:
        texts: list[str] = []
        while len(texts) < request.n:
            want = request.n - len(texts)
            body = {
                "model": self.model,
                "messages": request.messages,
                "n": want,
                "temperature": float(request.temperature),
                "max_tokens": int(request.max_new_tokens),
                "stop": STOP,
            }
            if request.temperature > 0:
                body["top_p"] = 0.95
                if self.seed is not None:  # OpenAI's `seed`; servers that ignore it still answer
                    body["seed"] = self.seed
            got = _choice_texts(self._call("POST", "/chat/completions", body), self.base_url + "/chat/completions")
            if len(got) < want:
                log.info("the endpoint returned %d of %d choices; asking again for the rest", len(got), want)
            texts += got[:want]
        return [t.strip() for t in texts]

    # --- HTTP -----------------------------------------------------------------------------------------------
    def _served_model(self) -> dict | None:
        """GET /models: the server is up, and which model it serves (an empty model name takes the only one)."""
        try:
            listing = self._call("GET", "/models")
        except _NotFound:
            return None  # not every server lists its models
        entries = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(entries, list):
            return None
        ids = [e.get("id") for e in entries if isinstance(e, dict)]
        if not self.model:
            if len(ids) != 1:
                raise StudyBuddyError(
                    f"The generator endpoint {self.base_url} serves {len(ids)} models ({', '.join(map(str, ids))}), and none was named.",
                    "Name one with --model NAME ([generator] model).",
                )
            self.model = str(ids[0])
        if self.model not in ids:
            log.warning("the endpoint %s lists %s, not %s; asking for it anyway", self.base_url, ids, self.model)
            return None
        return entries[ids.index(self.model)]

    def _call(self, method: str, path: str, body: dict | None = None):
        url = self.base_url + path
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        failure = ""
        timed_out = False
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=self.timeout_s) as reply:
                    raw = reply.read()
                return _parse_json(raw, url)
            except urllib.error.HTTPError as err:
                detail = _error_detail(err)
                if err.code == 404 and method == "GET":
                    raise _NotFound(url) from err
                if err.code in RETRY_STATUS:
                    failure, timed_out = f"HTTP {err.code}: {detail}", False
                    continue
                raise StudyBuddyError(f"The generator endpoint {url} answered HTTP {err.code}: {detail}", _http_fix(err.code)) from err
            except (TimeoutError, socket.timeout) as err:
                failure, timed_out = str(err) or "timed out", True
            except urllib.error.URLError as err:
                timed_out = isinstance(err.reason, (TimeoutError, socket.timeout))
                failure = str(err.reason)
            except (ConnectionError, http.client.HTTPException) as err:  # dropped mid-reply
                failure, timed_out = f"{type(err).__name__}: {err}", False
            log.info("generator endpoint %s: %s (try %d of %d)", url, failure, attempt + 1, self.retries + 1)
        tries = f"{self.retries + 1} tr{'y' if self.retries == 0 else 'ies'}"
        if timed_out:
            raise StudyBuddyError(
                f"The generator endpoint {url} did not answer within {self.timeout_s:g} s ({tries}).",
                "The server may be overloaded or the model slow: check the server, or raise [generator] timeout_s.",
            )
        raise StudyBuddyError(
            f"The generator endpoint {url} cannot be reached ({failure}; {tries}).",
            "Check that the model server is running and that [generator] base_url (or --endpoint) is right, "
            'or set backend = "transformers" to use a local model.',
        )


class _NotFound(Exception):
    pass


def normalise_base_url(url: str) -> str:
    """'http://host:8000' and 'http://host:8000/v1/' both mean 'http://host:8000/v1'."""
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise StudyBuddyError(f"'{url}' is not an http(s) URL.", 'Give the server\'s address, e.g. --endpoint http://gpu-box:8000/v1')
    path = parsed.path.rstrip("/")
    if path in ("",):
        path = "/v1"
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))


def _parse_json(raw: bytes, url: str):
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        shown = raw[:120].decode("utf-8", "replace")
        raise StudyBuddyError(
            f"The generator endpoint {url} returned something that is not JSON ({err}): {shown!r}",
            "Check that base_url points at an OpenAI-compatible API (usually ending in /v1), not a web page or a proxy.",
        ) from err


def _choice_texts(reply, url: str) -> list[str]:
    """The texts of a chat completion's choices; StudyBuddyError for anything else."""
    fix = "Check that the server speaks the OpenAI chat completions API (vLLM, llama.cpp's server, ...)."
    if isinstance(reply, dict) and reply.get("error"):
        error = reply["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise StudyBuddyError(f"The generator endpoint {url} reported an error: {message}", fix)
    choices = reply.get("choices") if isinstance(reply, dict) else None
    if not isinstance(choices, list) or not choices:
        raise StudyBuddyError(f"The generator endpoint {url} returned a reply with no choices: {json.dumps(reply)[:200]}", fix)
    texts = []
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        content = message.get("content", "") if isinstance(message, dict) else None
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise StudyBuddyError(f"The generator endpoint {url} returned a choice without a text message: {json.dumps(choice)[:200]}", fix)
        texts.append(content)
    return texts


def _error_detail(err: urllib.error.HTTPError) -> str:
    try:
        body = err.read()[:300].decode("utf-8", "replace")
    except Exception:  # the body is only for the message
        body = ""
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and parsed.get("error"):
            e = parsed["error"]
            return str(e.get("message") if isinstance(e, dict) else e)
    except ValueError:
        pass
    return body.strip() or str(err.reason)


def _http_fix(code: int) -> str:
    if code in (401, 403):
        return "Set the endpoint's API key in the environment variable [generator] api_key_env names (STUDYBUDDY_API_KEY by default)."
    if code == 404:
        return "Check [generator] base_url (usually it ends in /v1) and the model name the server serves."
    if code in (400, 422):
        return "The server refused the request: check the model name, and that it accepts n, temperature and max_tokens."
    return "Check the model server's log."
