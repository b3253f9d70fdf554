"""An OpenAI-compatible chat completions server on 127.0.0.1, playing the LLM summariser.

`GET /v1/models` lists `models`; `POST /v1/chat/completions` answers as OpenAI does
(`{"choices": [{"message": {"role": "assistant", "content": ...}}], ...}`). What it writes
is set per paper: `answers` maps a piece of the prompt (a title) to the reply; without one it
writes a grounded sentence from the paper's title. Faults make it answer 429 with
`Retry-After`, 500, or stall past the client's timeout; every request is kept (`requests`)
with its headers, to check what was sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from bot.console.local_http import LocalHTTPServer
from tests.fakes.faults import Faults


@dataclass
class LLMFault:
    kind: str  # "429", "500", "stall"
    count: int = 1
    retry_after: str = "1"


class LLMStandIn(LocalHTTPServer):
    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.models = ["stand-in-model"]  # GET /v1/models lists them
        self.requests: list[dict[str, Any]] = []
        self.faults: Faults[LLMFault] = Faults()
        self.stall_seconds = 3.0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1"

    def fail(self, kind: str, count: int = 1, retry_after: str = "1") -> None:
        self.faults.add(LLMFault(kind, count, retry_after))

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length", 0))
        body = json.loads(request.rfile.read(length) or b"{}")
        self.requests.append(
            {"path": request.path, "body": body, "headers": dict(request.headers.items())}
        )
        if request.command == "GET" and request.path == "/v1/models":  # what it serves
            models = {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}
            self.reply(request, 200, json.dumps(models).encode(), "application/json")
            return
        if request.command != "POST" or request.path != "/v1/chat/completions":
            self.reply(request, 404, b'{"error": {"message": "not found"}}', "application/json")
            return
        fault = self.faults.take()
        if fault and fault.kind == "429":
            error = json.dumps({"error": {"message": "Rate limit reached", "type": "requests"}})
            headers = {"Retry-After": fault.retry_after}
            self.reply(request, 429, error.encode(), "application/json", headers)
            return
        if fault and fault.kind == "500":
            self.reply(request, 500, b'{"error": {"message": "server error"}}', "application/json")
            return
        if fault and fault.kind == "stall":
            time.sleep(self.stall_seconds)
        content = self._answer(body)
        answer = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 30, "total_tokens": 130},
        }
        self.reply(request, 200, json.dumps(answer).encode(), "application/json")

    def _answer(self, body: dict[str, Any]) -> str:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        for piece, answer in self.answers.items():
            if piece in prompt:
                return answer
        title = prompt.partition("Title: ")[2].partition("\n")[0]
        return f"The paper presents {title}, as its title says."
