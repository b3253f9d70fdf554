"""An OpenAI-compatible chat completions API over httpx: OpenAI, vLLM, Ollama, llama.cpp.

`POST {PAPERS_LLM_URL}/chat/completions` with `{"model", "messages", "temperature": 0,
"max_tokens"}`; the answer's `choices[0].message.content` is the text. The key, when there is
one, goes as `Authorization: Bearer`. 429, 5xx, connection errors and timeouts are retried
under `bot.sources.polite`'s policy (a Retry-After of at most a minute), at most `max_attempts`
times; then `LLMError` says what failed. Nothing here decides what to ask: `bot.summarize.llm` does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.config import Settings
from bot.sources.hf_client import USER_AGENT
from bot.sources.polite import RetryPolicy, SourceError, send_with_retries

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = 60.0  # a summary later is worth less than the extractive one now


class LLMError(SourceError):
    """The LLM could not be asked, or answered with no usable text."""


class LLMClient:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 20.0,
        max_attempts: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.model = model
        self.policy = RetryPolicy(max_attempts, backoff, MAX_RETRY_AFTER, sleep)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers=headers,
        )

    @classmethod
    def for_settings(cls, settings: Settings, **options: Any) -> LLMClient:
        if not (settings.llm_url and settings.llm_model):
            raise LLMError("PAPERS_LLM_URL and PAPERS_LLM_MODEL are not set")
        return cls(settings.llm_url, settings.llm_model, settings.llm_api_key, **options)

    def close(self) -> None:
        self._http.close()

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 160) -> str:
        """The model's answer to `messages`, deterministic (`temperature=0`)."""
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": max_tokens,
        }

        def accept(response: httpx.Response) -> str:
            if response.status_code >= 400:
                raise LLMError(f"the LLM answered HTTP {response.status_code}; not retried")
            return _content(response)

        def failed(problem: str) -> LLMError:
            return LLMError(f"the LLM failed {self.policy.attempts} times (last: {problem})")

        return send_with_retries(
            lambda: self._http.post("/chat/completions", json=body),
            accept,
            self.policy,
            failed,
            what="the LLM",
        )


def _content(response: httpx.Response) -> str:
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise LLMError(f"the LLM's answer has no message text ({type(error).__name__})") from None
    if not isinstance(content, str) or not content.strip():
        raise LLMError("the LLM answered with an empty message")
    return content
