"""All file I/O of the library lives here: an atomic, cached TinyDB storage and a data-dir lock.

TinyDB's own JSONStorage parses the whole file on every read and rewrites it in place on every
write, so a process killed mid-write can leave a torn file. `AtomicJSONStorage` instead:

- serves reads from memory, re-reading the file only when another process replaced it
  (detected by inode, size and mtime, which `os.replace` always changes);
- writes the whole file to a temp file in the same folder, fsyncs it, `os.replace`s it over the
  old one and fsyncs the folder, so a kill at any instant leaves the old or the new file.

`DataDirLock` is an advisory `flock` on one file in the data dir: every write transaction holds
it, so two processes (the bot and a cron `papers-bot fetch`) both work and never lose each
other's writes: each transaction re-reads what the other wrote before changing it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tinydb.storages import Storage


class StoreError(RuntimeError):
    """A store operation failed; the files on disk are as they were before it."""


class DamagedFile(StoreError):
    """A library file is not valid JSON, or not a JSON object (torn by hand, a bad backup)."""


class StoreWriteError(StoreError):
    """A write failed (disk full, read-only disk, ...); nothing was changed on disk."""

    def __init__(self, path: Path, error: OSError):
        reasons = {
            errno.ENOSPC: "the disk is full",
            errno.EDQUOT: "the disk quota is exceeded",
            errno.EROFS: "the disk is read-only",
            errno.EACCES: "permission was denied",
        }
        reason = reasons.get(error.errno or 0, error.strerror or str(error))
        super().__init__(
            f"could not write {path}: {reason}; the previous version is intact "
            "(free some space or fix the permissions, then try again)"
        )
        self.path = path
        self.errno = error.errno


def database_reason(error: Exception) -> str:
    """What the database said, in one line (not the SQL and parameters SQLAlchemy adds)."""
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__


class DatabaseWriteError(StoreWriteError):
    """The database refused a write or could not be reached; nothing was changed."""

    def __init__(self, error: Exception):
        StoreError.__init__(
            self,
            f"could not write to the database: {database_reason(error)}; nothing was changed "
            "(check the database server, then try again)",
        )


def file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Replace `path` by `payload` so that a crash leaves either the old or the new file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_oserror():
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


@contextmanager
def _suppress_oserror() -> Iterator[None]:
    with suppress(OSError):
        yield


class AtomicJSONStorage(Storage):
    """A TinyDB storage with atomic writes and reads served from memory."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] | None = None
        self._signature: tuple[int, int, int] | None = None

    def read(self) -> dict[str, dict[str, Any]] | None:
        signature = file_signature(self.path)
        if signature is None:
            self._data, self._signature = None, None
            return None
        if self._data is None or signature != self._signature:
            self._data = self._load()
            self._signature = signature
        return self._data

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                data = json.loads(handle.read())
        except (OSError, ValueError, RecursionError) as error:
            raise DamagedFile(
                f"{self.path} could not be read ({error}); restore it from a backup"
            ) from error
        if not isinstance(data, dict):
            raise DamagedFile(f"{self.path} is not a library file (expected a JSON object)")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            atomic_write_bytes(self.path, payload)
        except OSError as error:
            # TinyDB mutated the dict we served before calling write: forget it, so the next
            # read comes from the intact file on disk.
            self._data, self._signature = None, None
            raise StoreWriteError(self.path, error) from error
        self._data = data
        self._signature = file_signature(self.path)

    def forget(self) -> None:
        """Drop the parsed file from memory (it is re-read on the next read or write)."""
        self._data, self._signature = None, None

    @property
    def signature(self) -> tuple[int, int, int] | None:
        """Changes whenever the file is replaced, by this process or another one."""
        return file_signature(self.path)

    def close(self) -> None:
        self._data = None


class DataDirLock:
    """A re-entrant lock shared by threads (RLock) and by processes (flock on a file)."""

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            # A read-only disk: flock works on a read-only descriptor, and the write that
            # follows will fail with a clear StoreWriteError.
            return os.open(self.path, os.O_RDONLY)

    def __init__(self, path: Path):
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth == 0:
                self._fd = self._open()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None


@contextmanager
def exclusive(path: Path) -> Iterator[bool]:
    """Try to become the only holder of `path` (flock, non-blocking); yields whether we are.

    For work that must not run twice at once (a channel's digest): across processes and
    across threads of one process (each call opens its own descriptor), and released by the
    kernel when a holder dies, so a killed run never blocks the next one.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
