"""The console's stand-in for Slack's Web API, served on 127.0.0.1.

It answers the methods papers-bot calls (auth.test, chat.postMessage, chat.postEphemeral,
views.publish, conversations.join, conversations.open, files upload v2), takes `response_url`
posts, records every call and keeps each channel's messages, so the console can show what the
bot sent and react to it. The tests extend it (tests/slack/standin.py) with faults, waiting and
Block Kit limit checks. Python's `http.server` is fine here: it serves one local process.
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

from bot.console.local_http import LocalHTTPServer
from bot.slack.workspaces import BOT_SCOPES


@dataclass
class Call:
    method: str  # Web API method, or "response_url"
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


class SlackStandIn(LocalHTTPServer):
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
        self.scopes = list(BOT_SCOPES)  # what the bot token was granted: Slack's x-oauth-scopes
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> posted messages
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base_url}/response/{name}"

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
            self.reply(request, 200, b"ok", "text/plain")
            return
        if path.startswith("/upload/"):
            self._record("file_upload", {"file_id": path.rsplit("/", 1)[1], "bytes": raw}, None)
            self.reply(request, 200, b"OK", "text/plain")
            return
        method = path.removeprefix("/api/")
        status, result, headers = self.respond(method, args, token)
        self.reply(request, status, json.dumps(result).encode(), "application/json", headers)

    @staticmethod
    def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
        if not raw:
            return {}
        if "json" in content_type:
            try:
                parsed: dict[str, Any] = json.loads(raw)
                return parsed
            except ValueError:
                return {"_invalid_json": raw.decode("utf-8", "replace")}
        args: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
        for key in ("blocks", "view", "attachments", "files"):
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        return args

    def _record(self, method: str, args: dict[str, Any], token: str | None) -> None:
        with self._changed:
            self.calls.append(Call(method, args, token))
            self._changed.notify_all()

    def payload_error(self, method: str, args: dict[str, Any], home: bool = False) -> str | None:
        """What Slack would answer to an unacceptable payload; the console accepts all (the
        tests' stand-in checks Block Kit's limits here)."""
        return None

    def respond(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(HTTP status, JSON body, headers) of a Web API call. Like Slack, every answer to a
        call made with a token names that token's scopes in `x-oauth-scopes`."""
        answer = self._answer(method, args, token)
        granted = answer.get("ok") and token == self.bot_token
        return 200, answer, {"x-oauth-scopes": ",".join(self.scopes)} if granted else {}

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        self._record(method, args, token)
        if not self.accepts(method, token):
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        answer: dict[str, Any] = handler(args)
        return answer

    def accepts(self, method: str, token: str | None) -> bool:
        return token == (self.app_token if method == "apps.connections.open" else self.bot_token)

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

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self.payload_error("chat.postMessage", args)
        if error:
            return {"ok": False, "error": error}
        channel = args.get("channel", "")
        info = self.channels.get(channel)
        if channel.startswith("C") and info is None:
            return {"ok": False, "error": "channel_not_found"}
        if info and info.get("is_private") and not info.get("is_member"):
            return {"ok": False, "error": "not_in_channel"}
        if info and info.get("is_archived"):
            return {"ok": False, "error": "is_archived"}
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

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self.payload_error("chat.update", args)
        if error:
            return {"ok": False, "error": error}
        channel, ts = args.get("channel", ""), args.get("ts", "")
        with self._lock:
            for message in self.messages.get(channel, []):
                if message["ts"] == ts:
                    message.update(text=args.get("text"), blocks=args.get("blocks"))
                    return {"ok": True, "channel": channel, "ts": ts}
        return {"ok": False, "error": "message_not_found"}

    def post_as(self, user: str, channel: str, text: str) -> str:
        """A person's message in `channel` (the console's `paste`); its ts."""
        ts = self._new_ts()
        with self._lock:
            self.messages.setdefault(channel, []).append({"ts": ts, "text": text, "user": user})
        return ts

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self.payload_error("chat.postEphemeral", args)
        return (
            {"ok": False, "error": error} if error else {"ok": True, "message_ts": self._new_ts()}
        )

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self.payload_error("views.publish", args, home=True)
        return {"ok": False, "error": error} if error else {"ok": True, "view": args.get("view")}

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

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if channel.startswith("D"):
            return {"ok": True, "channel": {"id": channel, "is_im": True, "is_private": True}}
        info = self.channels.get(channel)
        if info is None or (info.get("is_private") and not info.get("is_member")):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel, "is_im": False, "is_mpim": False, **info}}

    def _m_chat_unfurl(self, args: dict[str, Any]) -> dict[str, Any]:
        """Slack's rules: addressed by channel + ts or by unfurl_id + source, and a map from
        each URL to its attachment (here: blocks, held to Block Kit's limits)."""
        by_message = bool(args.get("channel") and args.get("ts"))
        by_id = bool(args.get("unfurl_id") and args.get("source"))
        if by_message == by_id:
            return {"ok": False, "error": "invalid_arguments"}
        unfurls = args.get("unfurls")
        if isinstance(unfurls, str):
            with contextlib.suppress(ValueError):
                unfurls = json.loads(unfurls)
        if not isinstance(unfurls, dict) or not unfurls:
            return {"ok": False, "error": "invalid_unfurls_format"}
        for unfurl in unfurls.values():
            if not isinstance(unfurl, dict):
                return {"ok": False, "error": "invalid_unfurls_format"}
            fallback = {"blocks": unfurl.get("blocks"), "text": unfurl.get("fallback", "")}
            error = self.payload_error("chat.unfurl", fallback)
            if error:
                return {"ok": False, "error": error}
        return {"ok": True}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.replace(",", "")}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):06d}"
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        return {
            "ok": True,
            "files": [{"id": f.get("id"), "title": f.get("title")} for f in files or []],
        }
