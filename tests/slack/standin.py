"""The tests' Slack: the console's Web API stand-in plus what only tests need.

Faults (an HTTP status, `Retry-After`, an error code, for the next N calls of a method),
waiting for calls, Socket Mode's `apps.connections.open`, and a check of every payload against
Block Kit's limits the way Slack rejects them (`invalid_blocks`, `msg_blocks_too_long`): the
violations are kept, so a test fails on any.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

from bot.console.slack_standin import Call, SlackStandIn

# Slack's own limits (Block Kit reference), not our tighter rendering budget.
LIMITS = {
    "blocks": 50,
    "home_blocks": 100,
    "section_text": 3000,
    "header_text": 150,
    "button_text": 75,
    "button_value": 2000,
    "context_elements": 10,
    "actions_elements": 25,
    "field_text": 2000,
    "block_id": 255,
    "action_id": 255,
    "blocks_chars": 13_000,
    "text": 40_000,
}


def block_violations(blocks: Any, home: bool = False) -> list[str]:
    """What Slack would reject in these blocks ([] when they are fine)."""
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    problems = []
    limit = LIMITS["home_blocks"] if home else LIMITS["blocks"]
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks > {limit}")
    if len(json.dumps(blocks, ensure_ascii=False)) > LIMITS["blocks_chars"]:
        problems.append("msg_blocks_too_long")
    for n, block in enumerate(blocks):
        problems += [f"block {n}: {p}" for p in _block_problems(block)]
    return problems


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def _block_problems(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    problems = []
    if len(str(block.get("block_id", ""))) > LIMITS["block_id"]:
        problems.append("block_id too long")
    if kind == "section":
        if "text" in block and not 1 <= _text_len(block["text"]) <= LIMITS["section_text"]:
            problems.append(f"section text length {_text_len(block['text'])}")
        for f in block.get("fields", []):
            if _text_len(f) > LIMITS["field_text"]:
                problems.append("field too long")
        if "accessory" in block:
            problems += _element_problems(block["accessory"])
    elif kind == "header":
        if not 1 <= _text_len(block.get("text")) <= LIMITS["header_text"]:
            problems.append(f"header length {_text_len(block.get('text'))}")
    elif kind == "context":
        elements = block.get("elements", [])
        if not 1 <= len(elements) <= LIMITS["context_elements"]:
            problems.append(f"context has {len(elements)} elements")
        if any(_text_len(e) > LIMITS["section_text"] or _text_len(e) < 1 for e in elements):
            problems.append("context element text length")
    elif kind == "actions":
        elements = block.get("elements", [])
        if not 1 <= len(elements) <= LIMITS["actions_elements"]:
            problems.append(f"actions has {len(elements)} elements")
        for element in elements:
            problems += _element_problems(element)
    elif kind not in ("divider", "image", "rich_text"):
        problems.append(f"unknown block type {kind!r}")
    return problems


def _element_problems(element: dict[str, Any]) -> list[str]:
    problems = []
    if element.get("type") == "button":
        if not 1 <= _text_len(element.get("text")) <= LIMITS["button_text"]:
            problems.append("button text length")
        if len(element.get("value", "")) > LIMITS["button_value"]:
            problems.append("button value too long")
        if len(element.get("action_id", "")) > LIMITS["action_id"]:
            problems.append("action_id too long")
    return problems


@dataclass
class Fault:
    method: str
    status: int
    retry_after: int | None
    remaining: int
    error: str | None = None


class TestSlack(SlackStandIn):
    """Start with `start()`; `api_url` goes into SLACK_API_URL / WebClient(base_url=...)."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.violations: list[str] = []
        self.socket_url: str | None = None
        self._faults: list[Fault] = []
        # Many workspaces: a code Slack hands the redirect -> (team, its bot token), and the
        # tokens it issued (revoked ones are dropped).
        self.client_id, self.client_secret = "1234.5678", "test-client-secret"
        self.install_codes: dict[str, tuple[str, str]] = {}
        self.issued: dict[str, str] = {}  # bot token -> team
        # Slack's chat.postMessage limit, played when set: a second message in a channel
        # within `channel_pace` seconds of the last one it took is answered 429 with
        # Retry-After (and counted), as Slack does past about one message a second.
        self.channel_pace: float | None = None
        self.paced_out = 0
        self._last_post: dict[str, float] = {}

    # -- many workspaces ---------------------------------------------------------------------

    def add_workspace(self, team: str, code: str) -> str:
        """A workspace whose admin will approve the install with `code`; its bot token."""
        token = f"xoxb-{team.lower()}-token"
        self.install_codes[code] = (team, token)
        return token

    def revoke(self, team: str) -> None:
        with self._lock:
            self.issued = {t: w for t, w in self.issued.items() if w != team}

    def accepts(self, method: str, token: str | None) -> bool:
        return token in self.issued or super().accepts(method, token)

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "oauth.v2.access":  # the client's id and secret, not a token
            self._record(method, args, token)
            return self._oauth_v2_access(args, token or "")
        if method == "auth.test" and token in self.issued:
            self._record(method, args, token)
            team = self.issued[token]
            return {"ok": True, "team_id": team, "user_id": f"UBOT{team}", "bot_id": f"B{team}"}
        return super()._answer(method, args, token)

    def _oauth_v2_access(self, args: dict[str, Any], authorization: str) -> dict[str, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization.removeprefix("Basic ").strip() != expected:
            return {"ok": False, "error": "invalid_client_id"}
        found = self.install_codes.pop(str(args.get("code")), None)
        if found is None:
            return {"ok": False, "error": "invalid_code"}
        team, token = found
        with self._lock:
            self.issued[token] = team
        return {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": f"UBOT{team}",
            "app_id": "A0PAPERS",
            "team": {"id": team, "name": f"Workspace {team}"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U0ADMIN"},
        }

    # -- faults and waiting ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        count: int = 1,
        error: str | None = None,
    ) -> None:
        with self._lock:
            self._faults.append(Fault(method, status, retry_after, count, error))

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `count` calls of `method` arrived; return them (or raise TimeoutError)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(found)} of {count} {method} calls after {timeout}s")
                self._changed.wait(left)

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    def respond(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        fault = self._take_fault(method) or self._too_soon(method, args)
        if fault is None:
            return super().respond(method, args, token)
        self._record(method, args | {"_fault": fault.status}, token)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
        return fault.status, {"ok": False, "error": fault.error or "ratelimited"}, headers

    def _too_soon(self, method: str, args: dict[str, Any]) -> Fault | None:
        if method != "chat.postMessage" or self.channel_pace is None:
            return None
        channel, now = str(args.get("channel", "")), time.monotonic()
        with self._lock:
            last = self._last_post.get(channel)
            if last is not None and now - last < self.channel_pace:
                self.paced_out += 1
                return Fault(method, 429, 1, 0)
            self._last_post[channel] = now
        return None

    def payload_error(self, method: str, args: dict[str, Any], home: bool = False) -> str | None:
        blocks = args.get("view", {}).get("blocks") if home else args.get("blocks")
        problems = block_violations(blocks, home=home)
        if not home and blocks and not args.get("text"):
            problems.append("no text fallback")
        if len(str(args.get("text", ""))) > LIMITS["text"]:
            problems.append("text too long")
        if problems:
            with self._lock:
                self.violations.extend(f"{method}: {p}" for p in problems)
            return "msg_blocks_too_long" if "msg_blocks_too_long" in problems else "invalid_blocks"
        return None

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "socket_mode_not_set_up"}
        return {"ok": True, "url": self.socket_url}
