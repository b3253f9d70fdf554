"""A local stand-in for Slack's Web API, served on 127.0.0.1.

It answers the methods papers-bot uses (auth.test, chat.*, views.publish, conversations.*,
users.info, files upload v2, apps.connections.open), takes `response_url` posts, and records
every call. It checks each payload against Block Kit's limits the way Slack rejects them
(`invalid_blocks`, `msg_blocks_too_long`) and keeps the violations, so a test can fail on any.

The console runs the real Bolt app against it, and so do the tests: it is a stand-in for the
network peer, not a mock of our code. Python's `http.server` is fine here (local, test only).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.loopback import LoopbackServer

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
class Call:
    method: str  # Web API method, or "response_url"
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    method: str
    status: int
    retry_after: int | None
    remaining: int
    error: str | None = None


class SlackStandIn(LoopbackServer):
    """Start with `start()`; `api_url` goes into SLACK_API_URL / WebClient(base_url=...)."""

    def __init__(
        self,
        bot_token: str = "xoxb-standin",
        app_token: str = "xapp-standin",
        bot_user_id: str = "UBOT",
        channels: dict[str, dict[str, Any]] | None = None,
    ):
        self.bot_token = bot_token
        self.app_token = app_token
        self.bot_user_id = bot_user_id
        self.channels = (
            channels
            if channels is not None
            else {
                "C0PAPERS": {"name": "papers", "is_private": False, "is_member": False},
            }
        )
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> posted messages
        self.socket_url: str | None = None
        self._faults: list[Fault] = []
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base_url}/response/{name}"

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

    # -- request handling ----------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        path = urlparse(request.path).path
        args = self._parse(raw, request.headers.get("Content-Type", ""))
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or None
        token = token or args.get("token")
        if path.startswith("/response/"):
            self._record("response_url", args | {"_path": path}, None)
            self._reply(request, 200, b"ok", "text/plain")
            return
        if path.startswith("/upload/"):
            self._record("file_upload", {"file_id": path.rsplit("/", 1)[1], "bytes": raw}, None)
            self._reply(request, 200, b"OK", "text/plain")
            return
        method = path.removeprefix("/api/")
        fault = self._take_fault(method)
        if fault:
            self._record(method, args | {"_fault": fault.status}, token)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            body = json.dumps({"ok": False, "error": fault.error or "ratelimited"}).encode()
            self._reply(request, fault.status, body, "application/json", headers)
            return
        result = self._answer(method, args, token)
        self._reply(request, 200, json.dumps(result).encode(), "application/json")

    @staticmethod
    def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
        if not raw:
            return {}
        if "json" in content_type:
            try:
                return json.loads(raw)
            except ValueError:
                return {"_invalid_json": raw.decode("utf-8", "replace")}
        args: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
        for key in ("blocks", "view", "attachments", "files"):
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        return args

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    def _record(self, method: str, args: dict[str, Any], token: str | None) -> None:
        with self._changed:
            self.calls.append(Call(method, args, token))
            self._changed.notify_all()

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(body)

    def _check_payload(self, method: str, args: dict[str, Any], home: bool = False) -> str | None:
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

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        self._record(method, args, token)
        if token != expected:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(args)

    # -- methods -------------------------------------------------------------------------------

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://standin.slack.test/",
            "team": "Stand-in",
            "user": "papers-bot",
            "team_id": "T0STANDIN",
            "user_id": self.bot_user_id,
            "bot_id": "B0STANDIN",
        }

    def _new_ts(self) -> str:
        return f"1767225600.{next(self._ts):06d}"

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        error = self._check_payload("chat.postMessage", args)
        if error:
            return {"ok": False, "error": error}
        channel = args.get("channel", "")
        info = self.channels.get(channel)
        if channel.startswith("C") and info is None:
            return {"ok": False, "error": "channel_not_found"}
        if info and info.get("is_private") and not info.get("is_member"):
            return {"ok": False, "error": "not_in_channel"}
        ts = self._new_ts()
        message = {
            "ts": ts,
            "text": args.get("text"),
            "blocks": args.get("blocks"),
            "thread_ts": args.get("thread_ts"),
            "user": self.bot_user_id,
        }
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        error = self._check_payload("chat.postEphemeral", args)
        return (
            {"ok": False, "error": error} if error else {"ok": True, "message_ts": self._new_ts()}
        )

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_payload("chat.update", args)
        return {"ok": False, "error": error} if error else {"ok": True, "ts": args.get("ts")}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_payload("views.publish", args, home=True)
        return {"ok": False, "error": error} if error else {"ok": True, "view": args.get("view")}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        info = self.channels.get(args.get("channel", ""))
        if info is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": args["channel"], **info}}

    def _m_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        info = self.channels.get(args.get("channel", ""))
        if info is None:
            return {"ok": False, "error": "channel_not_found"}
        if info.get("is_private"):
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        already = info.get("is_member")
        info["is_member"] = True
        result: dict[str, Any] = {"ok": True, "channel": {"id": args["channel"], **info}}
        if already:
            result["warning"] = "already_in_channel"
        return result

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.replace(",", "")}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user": {"id": args.get("user"), "tz": "UTC", "real_name": "Someone"}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        file_id = f"F{next(self._ts):06d}"
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        return {
            "ok": True,
            "files": [{"id": f.get("id"), "title": f.get("title")} for f in files or []],
        }

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "socket_mode_not_set_up"}
        return {"ok": True, "url": self.socket_url}
