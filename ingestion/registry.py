"""The one place sources are registered. Adding a source = a module in ``ingestion/sources``
plus one line here; raw assets, landing archives, rejects and raw checks follow from it."""

from __future__ import annotations

import pyarrow as pa

from ingestion.rows import raw_schema
from ingestion.sources import (
    binance,
    binance_archive,
    bybit,
    coinalyze,
    coingecko,
    coinglass,
    deribit,
    gate,
    hyperliquid,
    okx,
)
from ingestion.sources.base import Endpoint, Source

SOURCES: tuple[Source, ...] = (
    binance.SOURCE,
    bybit.SOURCE,
    okx.SOURCE,
    hyperliquid.SOURCE,
    gate.SOURCE,
    coinalyze.SOURCE,
    coinglass.SOURCE,
    coingecko.SOURCE,
    deribit.SOURCE,
    binance_archive.SOURCE,  # last: where a live endpoint has the same hour, the live one is used
)

ENDPOINTS: dict[str, Endpoint] = {e.table: e for s in SOURCES for e in s.endpoints}
SOURCES_BY_NAME: dict[str, Source] = {s.name: s for s in SOURCES}


def raw_schemas() -> dict[str, pa.Schema]:
    """Every registered raw table's columns: a run that selects some sources still gives dbt a
    (possibly empty) table for each of the others."""
    return {table: raw_schema(endpoint.dataset) for table, endpoint in ENDPOINTS.items()}


def endpoint_exchanges(endpoint: Endpoint, source: Source | None = None) -> tuple[str, ...]:
    """The exchanges an endpoint's rows are about: a catch-up's venues, its own, or its source's
    (``source``, by default the registered one of that name)."""
    if endpoint.fills is not None:
        return tuple(sorted(endpoint.fill_exchanges))
    if endpoint.venues is not None:
        return endpoint.venues
    return (source or SOURCES_BY_NAME[endpoint.source]).exchanges
