"""Doctor's checks of the data: the data dir (writable, not full), the catalog's integrity, and
whether the search index and the vectors follow the catalog. Nothing here writes to the
library or sets a damaged file aside: doctor reports, the bot repairs."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bot.cli.doctor.checks import Check, fail, ok, skip
from bot.config import Settings
from bot.library.catalog import CATALOG_FILE, Catalog, integrity_problems
from bot.library.storage import DataDirLock
from bot.library.stores import CatalogStore
from bot.search.builder import current_generation
from bot.search.index import open_index
from bot.search.semantic import installed
from bot.search.semantic.model import ModelMissing, fingerprint, model_folder
from bot.search.semantic.vectors import State, folder_of

LOW_SPACE = 200 * 1024 * 1024  # bytes: below this a day's fetch and its index may not fit
REBUILD = "`papers-bot index --rebuild` (a running bot keeps serving the old index meanwhile)"
REMAKE = "`papers-bot index` makes them again (search stays by words meanwhile)"


def data_checks(settings: Settings) -> list[Check]:
    checks = [data_dir_check(settings.data_dir)]
    catalog, check = open_catalog(settings)
    checks.append(check)
    if catalog is None:
        why = "no catalog to compare with"
        return [*checks, skip("search index", why), skip("vectors", why)]
    try:
        return [*checks, index_check(settings, catalog), vectors_check(settings, catalog)]
    finally:
        catalog.close()


def data_dir_check(data_dir: Path) -> Check:
    name = "data dir"
    folder = data_dir if data_dir.exists() else _existing_parent(data_dir)
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as error:
        return fail(
            name,
            f"{folder} cannot be written: {error.strerror or error}",
            "make PAPERS_DATA_DIR a folder this user can write (or point it elsewhere)",
        )
    free = shutil.disk_usage(folder).free
    if free < LOW_SPACE:
        return fail(name, f"{folder}: only {free // 2**20} MB free", "free some disk space")
    created = "" if data_dir.exists() else " (not made yet: the first run makes it)"
    return ok(name, f"{data_dir.resolve()}{created}, writable, {free / 2**30:.1f} GB free")


def _existing_parent(path: Path) -> Path:
    for parent in path.resolve().parents:
        if parent.exists():
            return parent
    return Path(os.sep)


def open_catalog(settings: Settings) -> tuple[CatalogStore | None, Check]:
    """The catalog, opened only when it is sound (the files' is checked first with SQLite's
    own `quick_check`); a PostgreSQL catalog only when its schema is current (the database
    check says what to do otherwise)."""
    name = "catalog"
    if settings.database_url:
        return _database_catalog(settings.database_url)
    path = settings.data_dir / CATALOG_FILE
    if not path.exists():
        return None, skip(name, f"no {path} yet (the first run makes it, with the sample papers)")
    problems = integrity_problems(path)
    if problems:
        detail = f"{path} is damaged: {'; '.join(problems[:3])}"
        fix = (
            "stop the bot and move the file aside (the bot also does it when it meets the "
            "damage, then starts an empty catalog); refill with `papers-bot fetch --since` "
            "or restore a backup"
        )
        return None, fail(name, detail, fix)
    catalog = Catalog(path, DataDirLock(settings.data_dir / ".papers.lock"))
    return catalog, ok(name, f"{path}: sound (quick_check), {catalog.count():,} papers")


def _database_catalog(url: str) -> tuple[CatalogStore | None, Check]:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.library import pg_schema
    from bot.library.pg_catalog import PgCatalog

    try:
        engine = pg_schema.connect(url)
        with engine.connect() as conn:
            current = pg_schema.current_version(conn) == pg_schema.SCHEMA_VERSION
        if not current:
            return None, skip("catalog", "the database's schema is not current (see below)")
        catalog = PgCatalog(engine)
        if not catalog.exists():
            return None, skip("catalog", "none in the database yet (the first run makes it)")
        return catalog, ok("catalog", f"in PostgreSQL, {catalog.count():,} papers")
    except SQLAlchemyError:
        return None, skip("catalog", "the database cannot be used (see below)")


def index_check(settings: Settings, catalog: CatalogStore) -> Check:
    name = "search index"
    folder = current_generation(settings.data_dir)
    index = open_index(folder) if folder is not None else None
    if folder is None or index is None:
        return fail(name, f"none in {settings.data_dir / 'index'}", "`papers-bot index` builds it")
    try:
        if index.lexicon.catalog != catalog.identity():
            return fail(name, f"{folder.name} was built from another catalog", REBUILD)
        if index.seq > catalog.last_seq():
            return fail(name, f"{folder.name} is ahead of the catalog (restored?)", REBUILD)
        behind = catalog.count_since(index.seq)
    finally:
        index.close()
    pending = f", {behind:,} papers to catch up (a bot or `papers-bot index` does it)"
    return ok(name, f"generation {folder.name} follows the catalog{pending if behind else ''}")


def vectors_check(settings: Settings, catalog: CatalogStore) -> Check:
    name = "vectors"
    if not settings.semantic or not installed(settings.embedding_model):
        return skip(name, "search by meaning is not in use")
    try:
        model = fingerprint(model_folder(settings.embedding_model))
    except (ModelMissing, OSError) as error:
        return skip(name, f"no model to compare with ({error})")
    folder = folder_of(settings.data_dir)
    state = State.read(folder)
    if state is None:
        return fail(name, f"none in {folder}", "`papers-bot index` makes them (a bot does too)")
    if state.model != model:
        return fail(name, f"made by another model ({state.model}, not {model})", REMAKE)
    if state.catalog != catalog.identity():
        return fail(name, "made from another catalog", REMAKE)
    behind = catalog.count_since(state.seq)
    pending = f", {behind:,} papers to embed (a bot or `papers-bot index` does it)"
    return ok(name, f"of model {model}, following the catalog{pending if behind else ''}")
