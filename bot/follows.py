"""Follows: a user's saved topics, and which papers each user was already alerted about."""

from __future__ import annotations

import hashlib

from bot.search.analyzer import fold
from bot.store import Library


def _normal(query: str) -> str:
    return " ".join(fold(query).split())[:200]


def _key(user: str, query: str) -> str:
    digest = hashlib.sha1(_normal(query).encode("utf-8")).hexdigest()[:16]
    return f"{user}:{digest}"


class Follows:
    def __init__(self, library: Library):
        self.library = library

    def add(self, user: str, query: str) -> bool:
        key = _key(user, query)
        with self.library.transaction():
            if key in self.library.state_rows("follows"):
                return False
            self.library.put_state(
                "follows",
                {
                    key: {
                        "user": user,
                        "query": " ".join(query.split())[:200],
                        "since": self.library.clock(),
                    }
                },
            )
            return True

    def remove(self, user: str, query: str) -> bool:
        key = _key(user, query)
        with self.library.transaction():
            if key not in self.library.state_rows("follows"):
                return False
            self.library.put_state("follows", {}, remove=[key])
            return True

    def of_user(self, user: str) -> list[str]:
        rows = self.library.state_rows("follows").values()
        return sorted(r["query"] for r in rows if r.get("user") == user)

    def all(self) -> list[tuple[str, str]]:
        """(user, query) for every follow."""
        return sorted((r["user"], r["query"]) for r in self.library.state_rows("follows").values())

    def already_alerted(self, user: str, paper_id: str) -> bool:
        return f"{user}:{paper_id}" in self.library.state_rows("alerted")

    def mark_alerted(self, user: str, paper_ids: list[str]) -> None:
        now = self.library.clock()
        self.library.put_state(
            "alerted", {f"{user}:{p}": {"user": user, "paper": p, "at": now} for p in paper_ids}
        )
