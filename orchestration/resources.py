"""Dagster resources: where data comes from (demo simulator or live APIs) and where it goes."""

import os
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import date

import dagster as dg
from pydantic import PrivateAttr

from ingestion.http import SharedFiles
from ingestion.pipeline import IngestReport, ingest, replay, skipped
from ingestion.registry import SOURCES_BY_NAME
from ingestion.sources.base import Endpoint, FetchContext
from ingestion.sources.tape import CollectorTapes
from orchestration import settings
from storage import DuckDBEngine, DuckDBSession, Engine, Paths, SparkEngine, hold_run_lock


class WarehouseResource(dg.ConfigurableResource):
    """The engine behind ``$LEVSTRESS_HOME``: DuckDB, or Spark over ``$LEVSTRESS_LAKE_URI``
    (``LEVSTRESS_WAREHOUSE``). A run holds the
    home's run lock from its first step to its last (the in-process executor sets a resource up
    once per run), so two runs on one home never interleave their writes. Its steps share one
    DuckDB connection, opened at first use (:class:`storage.DuckDBSession`)."""

    home: str = ""

    _run_lock: ExitStack | None = PrivateAttr(default=None)
    _session: DuckDBSession | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        stack = ExitStack()
        crashed = stack.enter_context(
            hold_run_lock(
                self.paths(),
                context.run_id or "outside-a-run",
                settings.run_lock_wait_s(),
                on_wait=lambda holder: context.log.warning(f"waiting for {holder} to finish"),
            )
        )
        self._run_lock = stack
        stack.callback(self.release)  # first out: the kept connection closes before the run lock
        self._session = DuckDBSession(self.paths())
        if crashed:
            _close_dead_run(context, crashed.get("run_id", ""))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._run_lock is not None:
            self._run_lock.close()
            self._run_lock = None
        self._session = None

    def release(self) -> None:
        """Close the run's kept connection, so that a process of its own (dbt) can open the
        warehouse; the next step that needs it opens it again."""
        if self._session is not None:
            self._session.release()

    def paths(self) -> Paths:
        return Paths(settings.home() if not self.home else os.path.abspath(self.home))

    def engine(self) -> Engine:
        if settings.warehouse() == "spark":
            paths = self.paths()
            return SparkEngine(paths, settings.lake_path(paths.home))
        return DuckDBEngine(self.paths(), session=self._session)


def _close_dead_run(context: dg.InitResourceContext, run_id: str) -> None:
    """A run killed while it held the warehouse (SIGKILL, OOM, power loss) stays "started" in
    Dagster and keeps its slot in the ``warehouse`` pool, which would block every later run. It
    held the lock that this run now holds, so its process is gone: mark it failed, free its slot."""
    dead = context.instance.get_run_by_id(run_id) if context.instance and run_id else None
    if dead is None or dead.is_finished or dead.run_id == context.run_id:
        return
    message = f"its process died while it held the warehouse (found by run {context.run_id})"
    context.instance.report_run_failed(dead, message)
    context.instance.event_log_storage.free_concurrency_slots_for_run(dead.run_id)
    context.log.warning(f"run {dead.run_id} was left running: {message}; marked failed, its pool slot freed")


class MarketSourcesResource(dg.ConfigurableResource):
    """Hands each source a client for its base URL. In demo mode it starts the built-in
    simulator for the length of the run, so nobody has to start a server by hand."""

    mode: str = ""

    _simulator: object | None = PrivateAttr(default=None)
    # The run's copies of archive files that two of its endpoints read (the daily metrics file).
    _shared_files: SharedFiles = PrivateAttr(default_factory=SharedFiles)

    def resolved_mode(self) -> str:
        return self.mode or settings.source_mode()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.resolved_mode() == "demo":
            from ingestion.simulator.process import SimulatorProcess

            self._simulator = SimulatorProcess().start()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._shared_files.clear()
        if self._simulator is not None:
            self._simulator.stop()
            self._simulator = None

    def base_url(self, source: str) -> str:
        spec = SOURCES_BY_NAME[source]
        if self._simulator is not None:
            return self._simulator.base_url(source)
        return os.environ.get(spec.base_url_env, spec.default_base_url)

    def today(self) -> date | None:
        """Live APIs keep limited history, counted back from today."""
        return settings.api_today(self.resolved_mode())

    def ingest(
        self, endpoint: Endpoint, days: list[date], paths: Paths, fill: Mapping[date, frozenset[str]] | None = None
    ) -> IngestReport:
        """Fetch (demo/live) or re-read the landing archive (replay: no network at all). ``fill``:
        the exchange-days a catch-up endpoint is asked to fill."""
        if self.resolved_mode() == "replay":
            return replay(endpoint, days, paths.landing)
        demo = self._simulator is not None
        spec = SOURCES_BY_NAME[endpoint.source]
        keys_as_live = not demo or self._simulator.scenario.no_keys
        if keys_as_live and (reason := spec.missing_key()):
            return skipped(endpoint, days, reason)
        client = spec.client(self.base_url(endpoint.source), demo=demo, shared_files=self._shared_files)
        tapes = CollectorTapes(paths.landing, replay_url=self._simulator.root_url if demo else None)
        ctx = FetchContext(client, settings.tracked_assets(), tapes, fill or {})
        try:
            return ingest(endpoint, ctx, days, paths.landing, self.today())
        finally:
            client.close()
