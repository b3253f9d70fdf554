"""A person's reading list as they change it (the Save and Remove buttons, the save
reaction): the change, and the line that tells them what it did. No Bolt here: the surface
refreshes their Home tab when something changed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot import render
from bot.delivery import Outcome
from bot.library import Library, StoreWriteError
from bot.models import Paper
from bot.render import replies

log = logging.getLogger(__name__)


def save(library: Library, user: str, paper: Paper, emoji: str) -> Outcome:
    title = render.title_of(paper)
    return _change(library.saves.add, user, paper, "save", lambda c: replies.saved(title, c, emoji))


def unsave(library: Library, user: str, paper: Paper) -> Outcome:
    title = render.title_of(paper)
    return _change(library.saves.remove, user, paper, "remove", lambda c: replies.unsaved(title, c))


def _change(
    change: Callable[[str, str], bool],
    user: str,
    paper: Paper,
    verb: str,
    said: Callable[[bool], str],
) -> Outcome:
    try:
        changed = change(user, paper.id)
    except StoreWriteError as error:
        log.error("%s of %s for %s failed: %s", verb, paper.id, user, error)
        return Outcome(False, replies.could_not_save(verb), failed=True)
    return Outcome(changed, said(changed))
