"""Locks across replicas: PostgreSQL advisory locks, each on a connection of its own.

A session-level advisory lock belongs to the connection that took it and is released when
that connection ends, also when its process is killed; so it is taken on a dedicated
connection (never one a pool might hand to another thread, nor a PgBouncer in transaction
mode), held for as long as the job runs.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bot.library.pg_schema import psycopg_url
from bot.library.storage import StoreError


def lock_key(name: str) -> int:
    """A job's name as the signed 64-bit key PostgreSQL's advisory locks take."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


@contextmanager
def advisory_lock(url: str, name: str) -> Iterator[bool]:
    """Yields True when this process now holds `name` across every replica, False when
    another one does (nothing waits)."""
    try:
        conn = psycopg.connect(psycopg_url(url), autocommit=True)
    except psycopg.Error as error:
        raise StoreError(f"cannot reach the database for the {name!r} lock: {error}") from error
    with conn:
        key = lock_key(name)
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        held = bool(row and row[0])
        try:
            yield held
        finally:
            if held and not conn.closed:
                # A broken connection released the lock already (the session ended).
                with contextlib.suppress(psycopg.Error):
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
