"""`papers-bot console`: the real bot, offline, against a local stand-in for Slack.

- `repl`: the read-eval-print loop and what it shows;
- `slack_standin`: Slack's Web API as the console needs it, on 127.0.0.1;
- `slack_requests`: slash commands, clicks and events, signed as Slack signs them;
- `local_http`: the small loopback HTTP server under the stand-in.
"""

from bot.console.repl import Console, run_console

__all__ = ["Console", "run_console"]
