"""Dagster's SQLite storages with one engine per process instead of one per statement.

Dagster's SQLite run and event-log storages build a new SQLAlchemy engine for every connection:
each write pays dialect initialisation, loses the compiled-statement cache and, closing the last
connection to a WAL database, a checkpoint (together ~16 of ~19 ms per event here). A backfill of
15 raw assets over 153 days writes ~2,300 materialization events, so that cost was most of a
`make run`. These subclasses keep one pooled engine per process and relax `synchronous` to NORMAL,
which SQLite documents as safe with WAL: a crash of the process loses nothing, a power cut can
lose the last events but never corrupts the file. For a shared or production deployment use
Dagster's Postgres storage instead (`dagster-postgres`).

The event log also asks SQLite for its own schema on every asset event: whether the tags table
exists (on yet another new engine) and which columns the asset-key table has (~3.3 of ~8 ms per
event; a year's backfill writes ~14,000 of them). A table or column, once there, stays: the answer
is kept once it is yes.

Dagster hands a step's partition events (one materialization per day of a range run) to
``store_event_batch`` when ``DAGSTER_EVENT_BATCH_SIZE`` is above 0; the SQL storages then store them
one by one, two commits each. Here a batch is one transaction, and this module turns batching on
for the processes that use it (unless the variable is set already).
"""

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import sqlalchemy as db
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import ConsolidatedSqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData

EVENT_BATCH_SIZE = "1000"  # events per transaction; a step's batch ends with the step anyway
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)


def _sqlite_engine(conn_string: str) -> db.Engine:
    engine = db.create_engine(conn_string, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

    @db.event.listens_for(engine, "connect")
    def _relax_sync(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


class _OneEngine:
    _conn_string: str
    _engine_by_pid: tuple[int, db.Engine] | None = None

    @property
    def _engine(self) -> db.Engine:
        # A forked child must not share the parent's pooled SQLite connections.
        if self._engine_by_pid is None or self._engine_by_pid[0] != os.getpid():
            self._engine_by_pid = (os.getpid(), _sqlite_engine(self._conn_string))
        return self._engine_by_pid[1]

    @contextmanager
    def _transaction(self) -> Iterator[db.Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn


class FastSqliteEventLogStorage(_OneEngine, ConsolidatedSqliteEventLogStorage):
    """`ConsolidatedSqliteEventLogStorage` (one SQLite file for all runs), one engine, its schema
    checks remembered once they pass."""

    @cached_property
    def _schema_present(self) -> set[tuple[str, str]]:
        return set()

    def _known_present(self, what: tuple[str, str], check: Callable[[], bool]) -> bool:
        if what not in self._schema_present and check():
            self._schema_present.add(what)
        return what in self._schema_present

    def has_table(self, table_name: str) -> bool:
        def check() -> bool:
            with self._engine.connect() as conn:
                return bool(self._engine.dialect.has_table(conn, table_name))

        return self._known_present((table_name, ""), check)

    def _has_asset_key_col_on_connection(self, conn: db.Connection, column_name: str) -> bool:
        ask = super()._has_asset_key_col_on_connection
        return self._known_present(("asset_keys", column_name), lambda: ask(conn, column_name))

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """``store_event``'s writes for each event, in one transaction. Asset check events write
        through connections of their own (a second writer would wait on this one): one by one."""
        if any(event.dagster_event_type in ASSET_CHECK_EVENTS for event in events):
            super().store_event_batch(events)
            return
        with self._transaction() as conn:
            inserted = conn.execute(self.prepare_insert_event_batch(events).returning(SqlEventLogStorageTable.c.id))
            # One INSERT numbers its rows in the order of its VALUES (ascending rowids); RETURNING
            # may list them in any order.
            event_ids = sorted(row[0] for row in inserted)
            asset_events = [
                (event, event_id)
                for event, event_id in zip(events, event_ids, strict=True)
                if event.is_dagster_event and event.dagster_event_type in ASSET_EVENTS and event.dagster_event.asset_key
            ]
            if asset_events:
                self._store_asset_event_tags(conn, *zip(*asset_events, strict=True))
            # An event overwrites its asset's row with the columns its type sets: only the last
            # of each asset and type can show, written in their order.
            last = {(e.dagster_event.asset_key, e.dagster_event_type): (e, i) for e, i in asset_events}
            for event, event_id in sorted(last.values(), key=lambda kept: kept[1]):
                self._store_asset_event(conn, event, event_id)

    @contextmanager
    def _connect(self) -> Iterator[db.Connection]:
        with self._transaction() as conn:
            yield conn


class FastSqliteRunStorage(_OneEngine, SqliteRunStorage):
    """`SqliteRunStorage`, one engine."""

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, str]
    ) -> "FastSqliteRunStorage":
        return cls.from_local(inst_data=inst_data, **config_value)

    @contextmanager
    def connect(self) -> Iterator[db.Connection]:
        with self._transaction() as conn:
            yield conn
