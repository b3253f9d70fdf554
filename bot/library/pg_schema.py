"""The PostgreSQL schema (`DATABASE_URL`), made and migrated by the bot: `papers-bot db upgrade`.

Tables mirror the embedded store: the catalog (`papers`, with the change feed's `seq`, and
`listings`), and the state, where every user and channel is scoped by its workspace (`team`):
saves, paper messages, shared links, follows, alerts, the digest ledger; Slack event ids are
unique per app, so `events` has none. `schema_version` records which migrations ran;
`upgrade` runs the missing ones in one transaction (PostgreSQL's DDL is transactional), and is
harmless to repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    create_engine,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError

metadata = MetaData()
Json = JSON().with_variant(JSONB(), "postgresql")

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Text, nullable=False),
)

papers = Table(
    "papers",
    metadata,
    Column("num", BigInteger, Identity(start=1), primary_key=True),  # the search index's key
    Column("id", Text, nullable=False, unique=True),
    Column("seq", BigInteger, nullable=False),  # raised on every change: the change feed
    Column("record", Json, nullable=False),
    Index("papers_by_seq", "seq"),
)

listings = Table(
    "listings",
    metadata,
    Column("day", Text, primary_key=True),
    Column("paper_id", Text, primary_key=True),
)

catalog_meta = Table(
    "catalog_meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

saves = Table(
    "saves",
    metadata,
    Column("team", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("paper_id", Text, primary_key=True),
    Column("saved_at", Text, nullable=False),
    Column("n", BigInteger, Identity(), nullable=False),  # insertion order within a second
)

posts = Table(
    "posts",
    metadata,
    Column("team", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("ts", Text, primary_key=True),
    Column("paper_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("posted_at", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("at", Float, nullable=False),
    Index("events_by_at", "at"),
)

follows = Table(
    "follows",
    metadata,
    Column("team", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("topic", Text, primary_key=True),  # the normalised query's digest
    Column("query", Text, nullable=False),
    Column("since", Text, nullable=False),
)

alerted = Table(
    "alerted",
    metadata,
    Column("team", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("paper_id", Text, primary_key=True),
    Column("at", Text, nullable=False),
)

digests = Table(
    "digests",
    metadata,
    Column("team", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("day", Text, primary_key=True),
    Column("header_ts", Text),
    Column("papers", Json, nullable=False),
    Column("done", Boolean, nullable=False),
    Column("note", Text),
    Column("at", Text, nullable=False),
)

posted = Table(  # one row per digest card: the ledger's (team, channel, paper) unique key
    "posted",
    metadata,
    Column("team", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("paper_id", Text, primary_key=True),
    Column("day", Text, nullable=False),
    Column("ts", Text),
)


workspace_digests = Table(  # added by migration 2: each workspace's digest, set in Slack
    "workspace_digests",
    metadata,
    Column("team", Text, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("time", Text, nullable=False),
    Column("zone", Text, nullable=False),
    Column("set_by", Text, nullable=False),
    Column("set_at", Text, nullable=False),
)

fetched_days = Table(  # added by migration 3: the days a backfill finished, per source
    "fetched_days",
    metadata,
    Column("source", Text, primary_key=True),
    Column("day", Text, primary_key=True),
    Column("rows", Integer, nullable=False),
    Column("at", Text, nullable=False),
)

llm_calls = Table(  # added by migration 4: LLM calls a day, against PAPERS_LLM_DAILY_LIMIT
    "llm_calls",
    metadata,
    Column("day", Text, primary_key=True),
    Column("calls", Integer, nullable=False),
)

hidden = Table(  # added by migration 5: papers a person marked Not interested
    "hidden",
    metadata,
    Column("team", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("paper_id", Text, primary_key=True),
    Column("at", Text, nullable=False),
)

picks_people = Table(  # migration 5: who asked for the morning DM of picks
    "picks_people",
    metadata,
    Column("team", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("since", Text, nullable=False),
)

picks_sent = Table(  # migration 5: each person's morning picks, claimed before the DM
    "picks_sent",
    metadata,
    Column("team", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("day", Text, primary_key=True),
    Column("papers", Json, nullable=False),
    Column("ts", Text),
)

shares = Table(  # added by migration 6: papers people posted as links, for the team's signals
    "shares",
    metadata,
    Column("team", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("ts", Text, primary_key=True),
    Column("paper_id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("private", Boolean, nullable=False),
    Column("at", Text, nullable=False),
    Index("shares_by_time", "team", "at"),  # the team's week
)

fulltexts = Table(  # added by migration 7: papers' full texts (arXiv HTML), for asking them
    "fulltexts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("status", Text, nullable=False),  # "html", or "missing" (no page, remembered 7 days)
    Column("at", Text, nullable=False),
    Column("body", LargeBinary),  # the parsed passages, zlib-compressed JSON
)

channel_digests = Table(  # added by migration 8: each channel's digest, set in Slack
    "channel_digests",
    metadata,
    Column("team", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("cadence", Text, nullable=False),  # "daily" or "weekly"
    Column("weekday", Integer),  # weekly: 0 Monday .. 6 Sunday
    Column("time", Text, nullable=False),
    Column("zone", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("quiet", Boolean, nullable=False),  # no post on a day with nothing on the topic
    Column("active", Boolean, nullable=False),
    Column("set_by", Text),  # None: the operator's default (PAPERS_CHANNEL)
    Column("set_at", Text, nullable=False),
    Column("off_reason", Text),
)

citation_people = Table(  # added by migration 9: who asked for citation alerts
    "citation_people",
    metadata,
    Column("team", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("since", Text, nullable=False),
    Column("checked", Text),
)

citations_seen = Table(  # added by migration 9: each citing paper a person was told of
    "citations_seen",
    metadata,
    Column("team", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("citing", Text, primary_key=True),  # Semantic Scholar's paper id
    Column("about", Text, nullable=False),  # the saved paper it cites
    Column("sent", Boolean, nullable=False),  # False: the starting point of a first check
    Column("at", Text, nullable=False),
)

citation_weeks = Table(  # added by migration 9: a week's check, claimed by one replica
    "citation_weeks",
    metadata,
    Column("team", Text, primary_key=True),
    Column("week", Text, primary_key=True),
    Column("at", Text, nullable=False),
)

VERSION_1 = [
    schema_version,
    papers,
    listings,
    catalog_meta,
    saves,
    posts,
    events,
    follows,
    alerted,
    digests,
    posted,
]


def _create_tables(conn: Connection) -> None:
    metadata.create_all(conn, tables=VERSION_1, checkfirst=True)


def _add_workspace_digests(conn: Connection) -> None:
    workspace_digests.create(conn, checkfirst=True)


def _add_fetched_days(conn: Connection) -> None:
    fetched_days.create(conn, checkfirst=True)


def _add_llm_calls(conn: Connection) -> None:
    llm_calls.create(conn, checkfirst=True)


def _add_tastes(conn: Connection) -> None:
    for table in (hidden, picks_people, picks_sent):
        table.create(conn, checkfirst=True)


def _add_shares(conn: Connection) -> None:
    shares.create(conn, checkfirst=True)
    # The team's week reads the saves of 7 days (`KeyedRows.at_least`), not every save.
    conn.execute(text("CREATE INDEX IF NOT EXISTS saves_by_time ON saves (team, saved_at)"))


def _add_fulltexts(conn: Connection) -> None:
    fulltexts.create(conn, checkfirst=True)


def _add_channel_digests(conn: Connection) -> None:
    channel_digests.create(conn, checkfirst=True)


def _add_citation_alerts(conn: Connection) -> None:
    for table in (citation_people, citations_seen, citation_weeks):
        table.create(conn, checkfirst=True)


# Migrations in order; version N is MIGRATIONS[N - 1]. Append, never edit one that shipped.
MIGRATIONS: list[Callable[[Connection], None]] = [
    _create_tables,
    _add_workspace_digests,
    _add_fetched_days,
    _add_llm_calls,
    _add_tastes,
    _add_shares,
    _add_fulltexts,
    _add_channel_digests,
    _add_citation_alerts,
]
SCHEMA_VERSION = len(MIGRATIONS)
UPGRADE_LOCK = 0x70617065  # an advisory lock: two replicas upgrading at once take turns


@contextmanager
def translated_errors(what: str, write: bool = False) -> Iterator[None]:
    """The database's errors as the library's: a write that failed is a DatabaseWriteError
    (nothing was changed), a read that failed a StoreError naming what was being read."""
    from bot.library.storage import DatabaseWriteError, StoreError, database_reason

    try:
        yield
    except SQLAlchemyError as error:
        if write:
            raise DatabaseWriteError(error) from error
        raise StoreError(
            f"could not read {what} from the database: {database_reason(error)}"
        ) from error


def sqlalchemy_url(url: str) -> str:
    """`postgresql://...` as people write it, with psycopg 3 as the driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def psycopg_url(url: str) -> str:
    """The URL as psycopg itself takes it (no SQLAlchemy driver name)."""
    return sqlalchemy_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


def connect(url: str) -> Engine:
    return create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=10)


def current_version(conn: Connection) -> int:
    exists = conn.execute(text("SELECT to_regclass('schema_version') IS NOT NULL")).scalar()
    if not exists:
        return 0
    return int(
        conn.execute(text("SELECT coalesce(max(version), 0) FROM schema_version")).scalar_one()
    )


def upgrade(engine: Engine, now: str) -> tuple[int, int]:
    """Run the migrations this database lacks; (version before, version after)."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
        before = current_version(conn)
        if before > SCHEMA_VERSION:
            return before, before
        for version in range(before + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version - 1](conn)
            conn.execute(schema_version.insert().values(version=version, applied_at=now))
    return before, max(before, SCHEMA_VERSION)


def upgrade_or_explain(engine: Engine, now: str) -> None:
    """Bring the schema up to date as a bot starts; errors a person can act on."""
    from bot.library.storage import StoreError

    try:
        before, after = upgrade(engine, now)
    except SQLAlchemyError as error:
        raise StoreError(f"cannot use the database at DATABASE_URL: {error}") from error
    if after > SCHEMA_VERSION:
        raise StoreError(
            f"the database has schema version {after}, newer than this papers-bot understands "
            f"({SCHEMA_VERSION}); upgrade papers-bot"
        )
