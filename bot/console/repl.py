"""`papers-bot console`: every /papers command offline, through the real Bolt app.

The console starts the local stand-in for Slack's Web API (`slack_standin`), builds the same
App as `papers-bot run` with its client pointed there, and sends it signed requests: slash
commands, button clicks, reactions, App Home opens. What the bot sends back to "Slack" is
rendered as readable text. Same listeners, same renderers, same library: no second copy.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.config import Settings
from bot.console.slack_requests import (
    FORM,
    JSON,
    block_action_body,
    event_body,
    signed_headers,
    slash_command_body,
)
from bot.console.slack_standin import Call, SlackStandIn
from bot.digest import run_digest
from bot.render import blocks_to_text, mrkdwn_to_text
from bot.runtime import Runtime
from bot.slack.app import LISTENER_THREADS, app_for
from bot.slack.client import make_client
from bot.slack.slackbot import SlackBot
from bot.text import whole_number

USER, CHANNEL = "U0CONSOLE", "C0CONSOLE"
UNFURL_DOMAINS = ("arxiv.org", "huggingface.co", "alphaxiv.org")  # as manifest.yml lists them
LINK = re.compile(r"https?://[^\s<>|]+")
SECRET = "console-signing-secret"
CONSOLE_HELP = """Commands:
  /papers QUERY | /papers help | /papers trending | /papers saved | /papers 2408.08338 ...
  press N        press button [N] of the last answer (or just type N)
  channel        the messages the bot posted in #console
  paste TEXT     post TEXT in #console as you; its arXiv / Hugging Face / alphaXiv links unfurl
  react N EMOJI  react to channel message N (e.g. react 2 bookmark); unreact N EMOJI
  home           open the bot's App Home tab
  digest         post today's digest to #console (from the library; no network)
  help | quit"""
ONLY_PAPERS = "Only /papers is a command here; type help."
CONSOLE_TYPE = (
    "Type /papers QUERY, press N, paste TEXT, react N bookmark, channel, home, digest, help, quit."
)


@dataclass
class Button:
    action_id: str
    value: str
    label: str
    block_id: str
    response_url: str | None
    container: dict[str, Any]


class _CountingPool(ThreadPoolExecutor):
    """Bolt's listener pool, counting the listeners still running: the console shows an
    answer once its listener is done (a "Reading the paper…" first is not the answer)."""

    def __init__(self, max_workers: int):
        super().__init__(max_workers=max_workers)
        self.running = 0
        self._count = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._count:
            self.running += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._count:
            self.running -= 1


class Console:
    def __init__(self, settings: Settings, write: Callable[[str], None] = print):
        self.write = write
        self.standin = SlackStandIn(
            bot_token="xoxb-console",
            channels={CHANNEL: {"name": "console", "is_private": False, "is_member": True}},
        ).start()
        self.settings = replace(
            settings,
            slack_bot_token="xoxb-console",
            slack_signing_secret=SECRET,
            slack_app_token=None,
            slack_api_url=self.standin.api_url,
        )
        self.runtime = Runtime.open(self.settings)
        # As a serving bot does: the word list and the embedding model loaded (its native
        # parts checked first) before the first question, not while it waits for its answer.
        self.runtime.warm_up()
        semantic = self.runtime.search.semantic
        if semantic is not None:  # the sample library's vectors, made while you type
            semantic.start_background(self.runtime.library)
        self.slackbot = SlackBot(self.runtime, make_client(self.settings))
        self._listeners = _CountingPool(LISTENER_THREADS)
        self.app: App = app_for(self.slackbot, executor=self._listeners)
        # Every button shown keeps its number for the whole session, as buttons of earlier
        # messages stay clickable in Slack.
        self.buttons: list[Button] = []
        self._opening_home = False  # the Home tab is printed when asked for, not on each save
        self._ids = itertools.count(1)

    def close(self) -> None:
        """Stop, once every answer still in flight has reached the stand-in (a `quit` typed
        before a slow answer came must not leave it talking to a Slack that is gone)."""
        self._listeners.shutdown(wait=True)
        if self.runtime.search.semantic is not None:
            self.runtime.search.semantic.stop_background()
        self.standin.stop()

    # -- sending to the app --------------------------------------------------------------------

    def _dispatch(self, body: str, content_type: str) -> int:
        headers: dict[str, str | Sequence[str]] = {"content-type": content_type}
        headers.update(signed_headers(body, SECRET))
        return self.app.dispatch(BoltRequest(body=body, headers=headers)).status

    def _until_quiet(self, before: int, timeout: float = 15.0, quiet: float = 0.3) -> list[Call]:
        """Calls the app made to Slack since `before`, once it stopped making them and no
        listener is still at work."""
        deadline, seen, last_change = time.monotonic() + timeout, before, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.standin.calls)
            if count != seen:
                seen, last_change = count, time.monotonic()
            elif (
                count > before
                and time.monotonic() - last_change >= quiet
                and self._listeners.running == 0
            ):
                break
            time.sleep(0.02)
        return self.standin.calls[before:]

    def slash(self, text: str) -> None:
        response_url = self.standin.response_url(f"cmd{next(self._ids)}")
        body = slash_command_body(text, USER, CHANNEL, response_url, f"t{next(self._ids)}")
        before = len(self.standin.calls)
        self._dispatch(body, FORM)
        self._show(self._until_quiet(before))

    def press(self, number: int) -> None:
        if not 1 <= number <= len(self.buttons):
            self.write(f"There is no button [{number}]; buttons so far: 1 to {len(self.buttons)}.")
            return
        button = self.buttons[number - 1]
        action = {"action_id": button.action_id, "value": button.value, "block_id": button.block_id}
        body = block_action_body(USER, action, button.container, CHANNEL, button.response_url)
        before = len(self.standin.calls)
        self._dispatch(body, FORM)
        self._show(self._until_quiet(before))

    def event(self, event: dict[str, Any]) -> None:
        before = len(self.standin.calls)
        self._dispatch(event_body(event, f"Ev{next(self._ids):08d}"), JSON)
        self._show(self._until_quiet(before, timeout=3.0))

    def channel_messages(self) -> list[dict[str, Any]]:
        return self.standin.messages.get(CHANNEL, [])

    def react(self, number: int, emoji: str, added: bool = True) -> None:
        messages = self.channel_messages()
        if not 1 <= number <= len(messages):
            self.write(f"There is no channel message {number}; type `channel` to list them.")
            return
        item = {"type": "message", "channel": CHANNEL, "ts": messages[number - 1]["ts"]}
        self.event(
            {
                "type": "reaction_added" if added else "reaction_removed",
                "user": USER,
                "reaction": emoji.strip(":"),
                "item": item,
                "item_user": "UBOT",
                "event_ts": str(time.time()),
            }
        )

    def paste(self, text: str) -> None:
        """Post `text` in #console as the console's user; Slack sends the bot `link_shared`
        for its links to the manifest's unfurl domains."""
        if not text:
            self.write(
                "Usage: paste TEXT, e.g. paste have you seen https://arxiv.org/abs/2408.08338"
            )
            return
        ts = self.standin.post_as(USER, CHANNEL, text)
        links = [
            {"domain": domain, "url": url}
            for url in LINK.findall(text)
            if (domain := urlsplit(url).hostname or "").removeprefix("www.") in UNFURL_DOMAINS
        ]
        self.write(f"(you posted message {len(self.channel_messages())} in #console)")
        if links:
            event = {
                "type": "link_shared",
                "channel": CHANNEL,
                "user": USER,
                "message_ts": ts,
                "unfurl_id": f"{CHANNEL}.{ts}",
                "source": "conversations_history",
                "links": links,
                "event_ts": ts,
            }
            self.event(event)

    def home(self) -> None:
        self._opening_home = True
        try:
            self.event(
                {
                    "type": "app_home_opened",
                    "user": USER,
                    "channel": "D0CONSOLE",
                    "tab": "home",
                    "event_ts": str(time.time()),
                }
            )
        finally:
            self._opening_home = False

    def digest(self) -> None:
        before = len(self.standin.calls)
        day = self.runtime.library.latest_listing_day() or date.today().isoformat()
        result = run_digest(
            self.runtime.library,
            self.slackbot,
            CHANNEL,
            date.fromisoformat(day),
            self.settings.digest_size,
            self.settings.save_emoji,
            pace=0,
            signals=self.settings.team_signals,
        )
        self._show(self.standin.calls[before:])
        if not result.posted:
            self.write(f"(no digest: {result.note})")

    # -- showing what the bot sent -------------------------------------------------------------

    def _show(self, calls: list[Call]) -> None:
        shown = False
        for call in calls:
            method, args = call.method, call.args
            if method in ("auth.test", "conversations.open"):
                continue
            if method == "response_url":
                self._render(args, "only you can see this", args.get("_path"), {})
            elif method == "chat.postMessage":
                where = "in the thread" if args.get("thread_ts") else f"in #{args.get('channel')}"
                self._render(
                    args,
                    f"the bot posted {where}",
                    None,
                    {"type": "message", "channel_id": args.get("channel")},
                )
            elif method == "chat.postEphemeral":
                self.write(f"[only you] {mrkdwn_to_text(args.get('text', ''))}")
            elif method == "views.publish" and not self._opening_home:
                self.write("(your App Home tab was updated: type home to see it)")
            elif method == "views.publish":
                self._render(
                    args.get("view", {}),
                    "your App Home tab",
                    None,
                    {"type": "view", "view_id": "V0"},
                )
            elif method == "chat.unfurl":
                for card in (args.get("unfurls") or {}).values():
                    self._render(
                        {"blocks": card.get("blocks"), "text": card.get("fallback", "")},
                        "the bot unfurled the link",
                        None,
                        {"type": "message", "channel_id": args.get("channel")},
                    )
            elif method == "file_upload":
                self.write(args["bytes"].decode("utf-8", "replace"))
            else:
                continue
            shown = True
        if not shown:
            self.write("(the bot sent nothing)")

    def _render(
        self,
        payload: dict[str, Any],
        where: str,
        response_url: str | None,
        container: dict[str, Any],
    ) -> None:
        self.write(f"── {where} " + "─" * max(0, 56 - len(where)))
        url = f"{self.standin.base_url}{response_url}" if response_url else None
        blocks = payload.get("blocks") or []
        if not blocks:
            self.write(mrkdwn_to_text(payload.get("text", "")))
        else:
            self.write(blocks_to_text(blocks, lambda e, b: self._button(e, b, url, container)))

    def _button(
        self,
        element: dict[str, Any],
        block: dict[str, Any],
        url: str | None,
        container: dict[str, Any],
    ) -> str:
        self.buttons.append(
            Button(
                element["action_id"],
                element.get("value", ""),
                element["text"]["text"],
                block.get("block_id", ""),
                url,
                container or {"type": "message", "channel_id": CHANNEL, "is_ephemeral": True},
            )
        )
        return f"[{len(self.buttons)} {element['text']['text']}]"

    # -- the loop ------------------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Run one console line; False when the user wants to quit."""
        word, _, rest = line.strip().partition(" ")
        if word in ("quit", "exit", "q"):
            return False
        if word == "/papers":
            self.slash(rest.strip())
        elif word.startswith("/"):
            self.write(ONLY_PAPERS)
        elif (button := whole_number(rest if word == "press" else word)) is not None:
            self.press(button)
        elif word in self.commands:
            self.commands[word](rest.strip())
        elif word:
            self.write(CONSOLE_TYPE)
        return True

    @property
    def commands(self) -> dict[str, Callable[[str], None]]:
        """The console's own words (`/papers` words go to the bot's router, through Slack)."""
        return {
            "help": lambda rest: self.write(CONSOLE_HELP),
            "react": lambda rest: self.react_line(rest, added=True),
            "unreact": lambda rest: self.react_line(rest, added=False),
            "channel": lambda rest: self.list_channel(),
            "home": lambda rest: self.home(),
            "digest": lambda rest: self.digest(),
            "paste": lambda rest: self.paste(rest),
        }

    def react_line(self, rest: str, added: bool) -> None:
        """`react N EMOJI` / `unreact N EMOJI`."""
        parts = rest.split()
        message = whole_number(parts[0]) if len(parts) == 2 else None
        if message is None:
            verb = "react" if added else "unreact"
            self.write(f"Usage: {verb} N EMOJI, with N a channel message's number.")
            return
        self.react(message, parts[1], added=added)

    def list_channel(self) -> None:
        for n, msg in enumerate(self.channel_messages(), start=1):
            self.write(f"{n}. {mrkdwn_to_text(msg.get('text') or '')[:110]}")
        if not self.channel_messages():
            self.write("(the bot has posted nothing in #console yet: press Share, or type digest)")


def run_console(settings: Settings) -> int:
    settings.require_valid()
    print("papers-bot console: the real bot, with a local stand-in for Slack. Type help.")
    console = Console(settings)  # a second or two: the word list and the model are loaded
    try:
        while True:
            try:
                line = input("papers> ")
            except EOFError:
                break
            if not console.handle(line):
                break
    finally:
        console.close()
    return 0
