"""`python -m bot` is the same as the `papers-bot` command."""

from bot.cli import main

raise SystemExit(main())
