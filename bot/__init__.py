"""papers-bot: a Slack bot that keeps a research team on top of ML papers."""

__version__ = "0.1.0"
