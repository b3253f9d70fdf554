"""An OpenAI-compatible chat completions API over httpx: OpenAI, vLLM, Ollama, llama.cpp.

`POST {PAPERS_LLM_URL}/chat/completions` with `{"model", "messages", "temperature": 0,
"max_tokens"}`; the answer's `choices[0].message.content` is the text. The key, when there is
one, goes as `Authorization: Bearer`. 429 and 5xx are retried after `Retry-After` (at most a
minute) or a short backoff, connection errors and timeouts too, at most `max_attempts` times;
then `LLMError` says what failed. Nothing here decides what to ask: `bot.summarize.llm` does.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.config import Settings
from bot.sources.hf_client import USER_AGENT
from bot.sources.polite import retry_after

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = 60.0  # a summary later is worth less than the extractive one now


class LLMError(RuntimeError):
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
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep
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
        problem = ""
        for attempt in range(1, self.max_attempts + 1):
            wait: float | None = None
            try:
                response = self._http.post("/chat/completions", json=body)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.status_code == 429 or response.status_code >= 500:
                    problem = f"HTTP {response.status_code}"
                    wait = retry_after(response, MAX_RETRY_AFTER)
                elif response.status_code >= 400:
                    raise LLMError(f"the LLM answered HTTP {response.status_code}; not retried")
                else:
                    return _content(response)
            if attempt < self.max_attempts:
                delay = wait if wait is not None else random.uniform(0, self.backoff * attempt)
                log.info("the LLM failed (%s); retry %d in %.1fs", problem, attempt, delay)
                self.sleep(delay)
        raise LLMError(f"the LLM failed {self.max_attempts} times (last: {problem})")


def _content(response: httpx.Response) -> str:
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise LLMError(f"the LLM's answer has no message text ({type(error).__name__})") from None
    if not isinstance(content, str) or not content.strip():
        raise LLMError("the LLM answered with an empty message")
    return content
