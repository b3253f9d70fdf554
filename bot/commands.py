"""`/papers WORD ...`: one table from the first word typed to its handler.

Slack's slash-command listener and the console (which sends `/papers` through that same
listener) both call `Commands.reply`. A new word is a row of `WORDS`, one handler here (a line
or two calling the domain), and one render function for its text; anything that is not a
word of the table is a search.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import for_you, render
from bot.answers import Answers, Progress, Reply, text_reply
from bot.ask import ask_library, ask_paper
from bot.citations import set_alerts
from bot.digest_settings import digest_setting_reply
from bot.ingest.lookup import look_up_anywhere
from bot.models import canonical_id
from bot.render import ask as ask_render
from bot.render import replies
from bot.runtime import Runtime


@dataclass(frozen=True)
class Typed:
    """What someone typed after `/papers`, and where."""

    user: str
    channel: str
    text: str  # all of it, as typed (a search uses it whole)
    rest: str  # what follows the first word
    progress: Progress | None = None


Handler = Callable[["Commands", Typed], Reply]


def _anything(rest: str) -> bool:
    return True


def _nothing(rest: str) -> bool:
    return not rest


@dataclass(frozen=True)
class Word:
    names: tuple[str, ...]
    handle: Handler
    # Whether the word takes what follows it; when not, the whole text is a search
    # (`/papers trending diffusion` searches for those words).
    takes: Callable[[str], bool] = _anything


def _help(commands: Commands, typed: Typed) -> Reply:
    return Reply(render.help_message(commands.runtime.settings.save_emoji))


def _saved(commands: Commands, typed: Typed) -> Reply:
    if typed.rest.lower() in ("bibtex", "bib"):
        return commands.answers.bibtex(typed.user)
    return commands.answers.saved(typed.user, typed.rest)


def _for_you(commands: Commands, typed: Typed) -> Reply:
    picked = for_you.picks_page(commands.runtime, typed.user)
    message = render.for_you_message(picked.papers, 0, picked.more, picked.empty)
    return Reply(message, shown=[paper for paper, _ in picked.papers])


def _picks(commands: Commands, typed: Typed) -> Reply:
    choice = typed.rest.lower()
    if choice not in ("on", "off"):
        return text_reply(replies.PICKS_USAGE)
    return text_reply(for_you.set_morning_picks(commands.runtime, typed.user, choice == "on"))


def _digest(commands: Commands, typed: Typed) -> Reply:
    runtime = commands.runtime
    answer = digest_setting_reply(
        runtime.settings, runtime.library, runtime.search, typed.user, typed.channel, typed.rest
    )
    message = replies.mrkdwn_message(answer.text)
    return Reply(message, join=answer.now_in, announce=answer.announce)


def _citations(commands: Commands, typed: Typed) -> Reply:
    return text_reply(set_alerts(commands.runtime, typed.user, typed.rest.lower()))


def _ask(commands: Commands, typed: Typed) -> Reply:
    """`/papers ask ID QUESTION` (one paper) or `/papers ask QUESTION` (the library)."""
    runtime = commands.runtime
    first, _, question = typed.rest.partition(" ")
    paper_id = canonical_id(first)
    if paper_id is None:
        if not typed.rest:
            return text_reply(ask_render.ASK_USAGE)
        question = typed.rest[: ask_render.QUESTION_LIMIT]
        return Reply(ask_render.library_answer_message(question, ask_library(runtime, question)))
    question = question.strip()[: ask_render.QUESTION_LIMIT]
    if not question:
        return text_reply(ask_render.ASK_USAGE)
    paper = runtime.library.get(paper_id)
    if typed.progress is not None:  # a fetch may follow: say so at once
        typed.progress(ask_render.reading_message(paper))
    if paper is None:
        paper = look_up_anywhere(runtime.settings, runtime.library, paper_id, "ask", 6.0)
        if paper is None:
            return text_reply(ask_render.unknown_paper(paper_id))
        runtime.search.refresh(wait=False)
    return Reply(ask_render.answer_message(ask_paper(runtime, paper, question), paper))


WORDS: tuple[Word, ...] = (
    Word(("", "help", "-h", "--help", "?"), _help),
    Word(("trending",), lambda c, t: c.answers.trending(), _nothing),
    Word(("saved",), _saved),
    Word(("foryou", "for-you"), _for_you, _nothing),
    Word(("picks",), _picks),
    Word(("forget",), lambda c, t: Reply(render.forget_me_message()), lambda r: r.lower() == "me"),
    Word(("follow",), lambda c, t: c.answers.follow(t.user, t.rest, True)),
    Word(("unfollow",), lambda c, t: c.answers.follow(t.user, t.rest, False)),
    Word(("following",), lambda c, t: c.answers.following(t.user), _nothing),
    Word(("digest",), _digest),
    Word(("team",), lambda c, t: c.answers.team(t.channel), _nothing),
    Word(("ask",), _ask),
    Word(("citations",), _citations),
)
_BY_NAME = {name: word for word in WORDS for name in word.names}


def word_for(text: str) -> Word | None:
    """The table's row for `text`; None when `text` is a search."""
    first, _, rest = text.strip().partition(" ")
    word = _BY_NAME.get(first.lower())
    return word if word is not None and word.takes(rest.strip()) else None


class Commands:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.answers: Answers = Answers(runtime)

    def reply(
        self, user: str, text: str, channel: str = "", progress: Progress | None = None
    ) -> Reply:
        """The reply to `/papers TEXT` typed by `user` in `channel`."""
        text = (text or "").strip()
        typed = Typed(user, channel, text, text.partition(" ")[2].strip(), progress)
        word = word_for(text)
        if word is None:
            reply = self.answers.search_reply(text, progress, channel)
        else:
            reply = word.handle(self, typed)
        missing = self.runtime.library.missing_parts()
        if missing:  # never a silently partial answer
            reply.message = render.with_warning(reply.message, render.damage_warning(missing))
        return reply
