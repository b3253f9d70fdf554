"""Papers -> Block Kit messages and -> plain text, for every surface (Slack, console, CLI).

- `blocks`: escaping outside text and keeping Slack's limits; the Block Kit primitives.
- `cards`: one paper as a card, with its buttons.
- `messages`: every message of the product (/papers answers, digest, alerts).
- `reading_list`: the saved list, the App Home tab, BibTeX.
- `plain`: Block Kit and mrkdwn as plain text, for the console and the command line.
"""

from bot.render.blocks import (
    FALLBACK_TEXT,
    MAX_BLOCKS,
    MAX_HOME_BLOCKS,
    MESSAGE_CHAR_BUDGET,
    clean,
    context,
    esc,
    esc_short,
    fit_blocks,
    message,
    text_section,
    with_warning,
)
from bot.render.cards import (
    MORE,
    PAGE,
    REMOVE,
    SAVE,
    SHARE,
    CardOptions,
    byline,
    card_blocks,
    emoji_names,
    title_of,
)
from bot.render.messages import (
    INTERNAL_ERROR,
    alert_message,
    damage_warning,
    digest_card_message,
    digest_header_message,
    help_message,
    looking_up_message,
    more_like_message,
    paper_card_message,
    search_results_message,
    shared_card_message,
    trending_message,
    with_hugging_face,
)
from bot.render.plain import blocks_to_text, mrkdwn_to_text, paper_text
from bot.render.reading_list import (
    bibtex,
    bibtex_key,
    bibtex_message,
    bibtex_text,
    home_view,
    saved_list_message,
)

__all__ = [
    "INTERNAL_ERROR",
    "damage_warning",
    "with_warning",
    "FALLBACK_TEXT",
    "MAX_BLOCKS",
    "MAX_HOME_BLOCKS",
    "MESSAGE_CHAR_BUDGET",
    "MORE",
    "PAGE",
    "REMOVE",
    "SAVE",
    "SHARE",
    "CardOptions",
    "alert_message",
    "bibtex",
    "bibtex_key",
    "bibtex_message",
    "bibtex_text",
    "blocks_to_text",
    "byline",
    "card_blocks",
    "clean",
    "context",
    "digest_card_message",
    "digest_header_message",
    "emoji_names",
    "esc",
    "esc_short",
    "fit_blocks",
    "help_message",
    "home_view",
    "looking_up_message",
    "message",
    "more_like_message",
    "mrkdwn_to_text",
    "paper_card_message",
    "paper_text",
    "saved_list_message",
    "search_results_message",
    "with_hugging_face",
    "shared_card_message",
    "text_section",
    "title_of",
    "trending_message",
]
