"""A throwaway PostgreSQL server for the tests: started once per run, stopped at the end.

Debian's `postgresql` package puts the server binaries under /usr/lib/postgresql/<version>/bin,
off the PATH. `initdb` refuses to run as root, so as root the server runs as the `postgres`
user (`runuser`), in a temporary folder it owns, on a random loopback port with its socket in
that folder. A caller that has a server already sets DATABASE_URL instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.library.pg_schema import psycopg_url

HOW_TO_ENABLE = (
    "PostgreSQL tests SKIPPED: no PostgreSQL server binaries. Install Debian's package "
    "(`apt-get install -y postgresql`, as .ci/run does) or set DATABASE_URL to a server."
)


def server_binaries() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_server() -> Iterator[str]:
    """Start a server; yields the URL of its `postgres` database."""
    binaries = server_binaries()
    if binaries is None:
        raise FileNotFoundError(HOW_TO_ENABLE)
    folder = Path(tempfile.mkdtemp(prefix="papers-pg-"))
    data, log = folder / "data", folder / "server.log"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()
    try:
        subprocess.run(
            _as_server_user(
                [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
                + ["--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=300"  # each test opens its own libraries
        )
        subprocess.run(
            _as_server_user(
                [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options]
                + ["start"]
            ),
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new, empty database on the server: each test gets its own."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(psycopg_url(server_url), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def refuse_writes(url: str, refuse: bool = True) -> None:
    """Make the database read-only for every new session and end the current ones (as a
    failover to a read-only standby would): a write then fails, reads go on."""
    import psycopg

    server, name = psycopg_url(url).rsplit("/", 1)
    # From the server's maintenance database: this one's sessions may be read-only already.
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(
            f"ALTER DATABASE {name} SET default_transaction_read_only = {'on' if refuse else 'off'}"
        )
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


def refuse_connections(url: str, refuse: bool = True) -> None:
    """The database stops taking connections and ends the ones it has (a restart, a network
    cut), or takes them again."""
    import psycopg

    server, name = psycopg_url(url).rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {'false' if refuse else 'true'}")
        if refuse:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
