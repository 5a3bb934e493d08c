"""The built-in market simulator over real HTTP: determinism, the default story, faults, paging
and the venues' error shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
import requests

from ingestion.http import SourceError
from ingestion.registry import ENDPOINTS, SOURCES_BY_NAME
from ingestion.simulator import Fault, Simulator, book
from ingestion.simulator.market_cache import load_market, read_market, write_market
from ingestion.simulator.streams import Streams, ar1
from ingestion.sources.base import FetchContext, Window

NOW = datetime(2026, 3, 1, tzinfo=UTC)
ASSETS = ("BTC", "ETH", "SOL", "XRP", "DOGE")
SPIKE_HOUR = datetime(2026, 1, 20, 14, tzinfo=UTC)


def ms(moment: datetime | date) -> int:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def day_bounds(day: date) -> tuple[int, int]:
    return ms(day), ms(day + timedelta(days=1)) - 1


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=7, faults=[], now=NOW) as simulator:
        yield simulator


def get(sim: Simulator, source: str, path: str, **params: object) -> requests.Response:
    return requests.get(sim.base_url(source) + path, params=params, headers={"api_key": "test"}, timeout=30)


def info(sim: Simulator, body: object) -> requests.Response:
    return requests.post(sim.base_url("hyperliquid") + "/info", json=body, timeout=30)


def tape(sim: Simulator, exchange: str, day: str) -> requests.Response:
    return requests.get(f"{sim.root_url}/_tape/{exchange}/{day}", timeout=30)


def okx_liquidations(
    sim: Simulator, asset: str, after: int, before: int | None = None, limit: int = 100
) -> list[dict[str, str]]:
    """Pages backwards with ``after`` as the reference says, until the page is empty or short,
    or (without ``before``) reaches the day before ``after``."""
    details: list[dict[str, str]] = []
    stop = after - 86_400_000 if before is None else before
    while True:
        params: dict[str, object] = {
            "instType": "SWAP",
            "instFamily": f"{asset}-USDT",
            "state": "filled",
            "after": after,
            "limit": limit,
        }
        if before is not None:
            params["before"] = before
        data = get(sim, "okx", "/api/v5/public/liquidation-orders", **params).json()["data"]
        page = [d for item in data for d in item["details"]]
        details += page
        if len(page) < limit or min(int(d["ts"]) for d in page) < stop:
            return details
        after = min(int(d["ts"]) for d in page)


# --- the public API ---------------------------------------------------------------------------


def test_base_urls_replace_the_real_hosts(sim: Simulator) -> None:
    assert sim.root_url.startswith("http://127.0.0.1:")
    assert sim.base_url("coingecko") == sim.root_url + "/coingecko/api/v3"
    assert sim.base_url("deribit") == sim.root_url + "/deribit/api/v2"
    assert sim.base_url("gate") == sim.root_url + "/gate/api/v4"
    with pytest.raises(KeyError):
        sim.base_url("kraken")


def test_faults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = [{"kind": "http_500", "source": "okx", "date": "2026-01-15"}]
    monkeypatch.setenv("LEVSTRESS_SIM_FAULTS", json.dumps(raw))
    assert Fault.from_env() == [Fault(kind="http_500", source="okx", date="2026-01-15")]
    assert Simulator(now=NOW).faults == [Fault(kind="http_500", source="okx", date="2026-01-15")]
    with pytest.raises(ValueError):
        Fault(kind="meteor_strike", source="okx", date="2026-01-15")
    with pytest.raises(ValueError):
        Fault(kind="duplicate_event", source="deribit", date="2026-01-15")


# --- determinism --------------------------------------------------------------------------------


def test_same_seed_serves_the_same_bytes_whatever_came_before(sim: Simulator) -> None:
    with Simulator(seed=7, faults=[], now=NOW) as other:
        tape(other, "binance", "2025-10-10")  # other requests first, in another order
        get(
            other,
            "coinalyze",
            "/liquidation-history",
            symbols="BTCUSDT_PERP.6",
            interval="daily",
            **{"from": ms(date(2025, 9, 1)) // 1000, "to": ms(date(2026, 1, 31)) // 1000},
        )
        for exchange in ("binance", "bybit"):
            assert tape(other, exchange, "2026-01-20").content == tape(sim, exchange, "2026-01-20").content
        after = ms(date(2026, 1, 21))
        assert okx_liquidations(other, "ETH", after) == okx_liquidations(sim, "ETH", after)
    with Simulator(seed=8, faults=[], now=NOW) as different:
        assert tape(different, "bybit", "2026-01-20").content != tape(sim, "bybit", "2026-01-20").content


def test_a_day_is_identical_alone_or_inside_a_wider_window(sim: Simulator) -> None:
    start, end = day_bounds(date(2026, 1, 20))
    alone = get(sim, "binance", "/fapi/v1/klines", symbol="SOLUSDT", interval="1h", startTime=start, endTime=end).json()
    wide = get(
        sim,
        "binance",
        "/fapi/v1/klines",
        symbol="SOLUSDT",
        interval="1h",
        startTime=start - 86_400_000,
        endTime=end + 86_400_000,
        limit=1500,
    ).json()
    assert len(alone) == 24 and alone == [row for row in wide if start <= row[0] <= end]

    hourly = {"symbols": "BTC.H,ETHUSDT_PERP.A", "interval": "1hour", "convert_to_usd": "true"}
    one = get(sim, "coinalyze", "/liquidation-history", **hourly, **{"from": start // 1000, "to": end // 1000}).json()
    three = get(
        sim,
        "coinalyze",
        "/liquidation-history",
        **hourly,
        **{"from": start // 1000 - 86_400, "to": end // 1000 + 86_400},
    ).json()
    for a, b in zip(one, three, strict=True):
        assert a["history"] == [p for p in b["history"] if start // 1000 <= p["t"] <= end // 1000]

    day = [d for d in okx_liquidations(sim, "BTC", end + 1) if start <= int(d["ts"]) <= end]
    from_later = [
        d for d in okx_liquidations(sim, "BTC", end + 1 + 86_400_000, before=start - 1) if int(d["ts"]) <= end
    ]
    assert day and day == from_later


# --- the story ------------------------------------------------------------------------------------


def hour_from_tape(sim: Simulator, exchange: str, start: int) -> tuple[float, float]:
    long = short = 0.0
    for line in tape(sim, exchange, "2026-01-20").text.splitlines():
        message = json.loads(line)
        if exchange == "binance":
            o = message["o"]
            if start <= o["T"] < start + 3_600_000:
                usd = float(o["ap"]) * float(o["z"])
                long, short = (long + usd, short) if o["S"] == "SELL" else (long, short + usd)
        else:
            for e in message["data"]:
                if start <= e["T"] < start + 3_600_000:
                    usd = float(e["p"]) * float(e["v"])
                    long, short = (long + usd, short) if e["S"] == "Buy" else (long, short + usd)
    return long, short


def hour_from_okx(sim: Simulator, start: int) -> tuple[float, float]:
    ct_val = {
        i["instId"]: float(i["ctVal"])
        for i in get(sim, "okx", "/api/v5/public/instruments", instType="SWAP").json()["data"]
    }
    long = short = 0.0
    for asset in ASSETS:
        for d in okx_liquidations(sim, asset, start + 3_600_000, before=start - 1):
            usd = float(d["bkPx"]) * float(d["sz"]) * ct_val[f"{asset}-USDT-SWAP"]
            long, short = (long + usd, short) if d["side"] == "sell" else (long, short + usd)
    return long, short


def hour_from_coinalyze(sim: Simulator, code: str, start: int) -> tuple[float, float]:
    symbols = ",".join(f"{a}.H" if code == "H" else f"{a}USDT_PERP.{code}" for a in ASSETS)
    series = get(
        sim,
        "coinalyze",
        "/liquidation-history",
        symbols=symbols,
        interval="1hour",
        convert_to_usd="true",
        **{"from": start // 1000, "to": start // 1000 + 3599},
    ).json()
    points = [p for s in series for p in s["history"]]
    return sum(p["l"] for p in points), sum(p["s"] for p in points)


def test_spike_hour_2026_01_20_is_long_heavy(sim: Simulator) -> None:
    start = ms(SPIKE_HOUR)
    venues = {
        "binance": hour_from_tape(sim, "binance", start),
        "bybit": hour_from_tape(sim, "bybit", start),
        "okx": hour_from_okx(sim, start),
        "hyperliquid": hour_from_coinalyze(sim, "H", start),
    }
    longs = sum(v[0] for v in venues.values())
    shorts = sum(v[1] for v in venues.values())
    assert longs > 230e6 and shorts < 5e6
    assert venues["binance"][0] == pytest.approx(36e6, rel=0.05)
    assert venues["hyperliquid"][0] == pytest.approx(59e6, rel=0.05)
    # The aggregator sees every Binance liquidation; the throttled stream is a floor.
    assert hour_from_coinalyze(sim, "A", start)[0] >= venues["binance"][0] - 1.0
    assert hour_from_coinalyze(sim, "6", start)[0] == pytest.approx(venues["bybit"][0], rel=1e-6)


def test_late_january_market_caps(sim: Simulator) -> None:
    close = ms(date(2026, 1, 31)) // 1000
    caps = {}
    for coin in ("bitcoin", "ethereum"):
        chart = get(
            sim,
            "coingecko",
            f"/coins/{coin}/market_chart/range",
            vs_currency="usd",
            **{"from": close - 3600, "to": close + 3600},
        ).json()
        caps[coin] = dict(map(tuple, chart["market_caps"]))[close * 1000]
    assert caps["bitcoin"] == pytest.approx(1.71e12, rel=0.05)
    assert caps["ethereum"] == pytest.approx(344e9, rel=0.05)

    with Simulator(faults=[], now=datetime(2026, 1, 20, 23, tzinfo=UTC)) as spike_day:
        coins = get(
            spike_day, "coingecko", "/coins/markets", vs_currency="usd", order="market_cap_desc", per_page=250, page=1
        ).json()
    assert len(coins) >= 60 and coins[0]["id"] == "bitcoin" and coins[0]["market_cap_rank"] == 1
    large = [c for c in coins[:20] if c["symbol"] not in ("usdt", "usdc", "usde", "usds", "dai", "usd1")]
    assert sum(c["price_change_percentage_24h"] < 0 for c in large) > len(large) / 2


def test_january_is_a_pressure_cooker(sim: Simulator) -> None:
    start, end = ms(date(2026, 1, 1)), ms(date(2026, 2, 1)) - 1
    days = get(sim, "binance", "/fapi/v1/klines", symbol="BTCUSDT", interval="1d", startTime=start, endTime=end).json()
    assert len(days) == 31
    assert min(float(d[3]) for d in days) > 83_000 and max(float(d[2]) for d in days) < 91_000
    oi = get(
        sim,
        "bybit",
        "/v5/market/open-interest",
        category="linear",
        symbol="BTCUSDT",
        intervalTime="1d",
        startTime=start,
        endTime=end,
    ).json()["result"]["list"]
    assert float(oi[0]["singleOpenInterest"]) > 1.1 * float(oi[-1]["singleOpenInterest"])  # newest first
    late = get(
        sim, "binance", "/fapi/v1/fundingRate", symbol="BTCUSDT", startTime=ms(date(2026, 1, 25)), endTime=end
    ).json()
    assert sum(float(r["fundingRate"]) for r in late) / len(late) < 0.00002


def test_october_cascade(sim: Simulator) -> None:
    start, end = ms(date(2025, 10, 10)), ms(date(2025, 10, 12)) - 1
    longs = {}
    for code, venue in (("A", "binance"), ("6", "bybit"), ("3", "okx"), ("H", "hyperliquid")):
        symbols = ",".join(f"{a}.H" if code == "H" else f"{a}USDT_PERP.{code}" for a in ASSETS)
        series = get(
            sim,
            "coinalyze",
            "/liquidation-history",
            symbols=symbols,
            interval="daily",
            convert_to_usd="true",
            **{"from": start // 1000, "to": end // 1000},
        ).json()
        longs[venue] = sum(p["l"] for s in series for p in s["history"])
    assert longs["hyperliquid"] > longs["bybit"] > longs["binance"] > longs["okx"] > 1e9
    oi = get(
        sim,
        "okx",
        "/api/v5/rubik/stat/contracts/open-interest-history",
        instId="BTC-USDT-SWAP",
        period="1H",
        end=ms(datetime(2025, 10, 11, tzinfo=UTC)),
    ).json()["data"]
    by_hour = {int(r[0]): float(r[3]) for r in oi}
    before, after = (by_hour[ms(datetime(2025, 10, 10, h, tzinfo=UTC))] for h in (19, 23))
    assert after < 0.8 * before  # open interest collapses
    candles = get(
        sim,
        "okx",
        "/api/v5/market/history-candles",
        instId="DOGE-USDT-SWAP",
        bar="1Dutc",
        after=ms(date(2025, 10, 11)),
        limit=1,
    ).json()["data"]
    open_, low = float(candles[0][1]), float(candles[0][3])
    assert 0.6 < low / open_ < 0.8  # an alt down 20-40% intraday
    dvol = get(
        sim,
        "deribit",
        "/public/get_volatility_index_data",
        currency="BTC",
        resolution="3600",
        start_timestamp=start,
        end_timestamp=end,
    ).json()["result"]["data"]
    assert max(row[2] for row in dvol) > 60 > min(row[3] for row in dvol)


def test_the_years_before_the_present_tell_their_story(sim: Simulator) -> None:
    """FTX (Nov 2022) and the yen carry unwind (5 Aug 2024), served as any other day: prices,
    open interest, funding and positioning, from Binance's live endpoints and its archive."""
    daily = get(
        sim, "binance", "/fapi/v1/klines", symbol="BTCUSDT", interval="1d",
        startTime=ms(date(2022, 11, 6)), endTime=ms(date(2022, 11, 10)) - 1,
    ).json()  # fmt: skip
    assert [float(d[3]) for d in daily][-1] < 0.8 * float(daily[0][1])  # -20 % and more in three days
    funding = get(
        sim, "binance", "/fapi/v1/fundingRate", symbol="BTCUSDT",
        startTime=ms(date(2022, 11, 9)), endTime=ms(date(2022, 11, 10)) - 1,
    ).json()  # fmt: skip
    assert len(funding) == 3 and max(float(r["fundingRate"]) for r in funding) < 0
    archive = requests.get(
        sim.base_url("binance_archive") + "/data/futures/um/daily/metrics/BTCUSDT/BTCUSDT-metrics-2024-08-05.zip",
        timeout=10,
    )
    assert archive.status_code == 200 and archive.content[:2] == b"PK"
    aug = get(
        sim, "binance", "/fapi/v1/klines", symbol="BTCUSDT", interval="1h",
        startTime=ms(date(2024, 8, 5)), endTime=ms(date(2024, 8, 6)) - 1,
    ).json()  # fmt: skip
    assert min(float(h[3]) for h in aug) < 52_000 < float(aug[0][1])


def test_the_market_kept_on_disk_is_the_market_built(tmp_path) -> None:
    """Every series saved and mapped back equal, read-only (no run can change the shared copy);
    a half-written folder is never read."""
    built = load_market(7)  # the worker's own (built, or mapped from the cache)
    write_market(built, tmp_path / "market-7-x")
    loaded = read_market(7, tmp_path / "market-7-x")
    arrays = {name for name, value in vars(built).items() if isinstance(value, np.ndarray)}
    assert arrays and arrays == {name for name in vars(loaded) if name != "seed"}
    assert all(np.array_equal(getattr(built, name), getattr(loaded, name)) for name in arrays)
    assert not any(getattr(loaded, name).flags.writeable for name in arrays)
    (tmp_path / "market-7-y").mkdir()
    with pytest.raises(FileNotFoundError):
        read_market(7, tmp_path / "market-7-y")


def test_the_past_never_changes_the_present() -> None:
    """The present draws exactly what a lone generator of its entropy draws, whatever the past;
    the past's AR(1) noise runs into the present's first value without a jump."""
    past, total = 500, 2_000
    streams = Streams([7, 1])
    drawn = streams.normal((total, 3), past)
    alone = np.random.default_rng(np.random.SeedSequence([7, 1])).standard_normal((total - past, 3))
    assert drawn.shape == (total, 3) and np.array_equal(drawn[past:], alone)
    noise = Streams([7, 2]).ar1((total,), past, 0.95)
    lone = ar1(np.random.default_rng(np.random.SeedSequence([7, 2])).standard_normal(total - past), 0.95)
    assert np.array_equal(noise[past:], lone)
    steps = np.abs(np.diff(noise))
    assert steps[past - 1] < 4 * steps.mean()  # the seam is an ordinary step
    assert 0.8 < noise[:past].std() < 1.2  # and the past is as noisy as the present


def test_nothing_exists_after_the_clock(sim: Simulator) -> None:
    start, end = day_bounds(date(2026, 3, 2))
    assert get(sim, "binance", "/fapi/v1/fundingRate", symbol="BTCUSDT", startTime=start, endTime=end).json() == []
    assert info(sim, {"type": "fundingHistory", "coin": "ETH", "startTime": start, "endTime": end}).json() == []
    assert tape(sim, "bybit", "2026-03-02").content == b""
    assert okx_liquidations(sim, "BTC", end + 1, before=start - 1) == []


# --- faults ---------------------------------------------------------------------------------------


def fault_sim(*faults: Fault) -> Simulator:
    return Simulator(seed=7, faults=list(faults), now=NOW)


def test_http_faults_hit_the_first_request_of_that_day_only() -> None:
    day = date(2026, 1, 15)
    start, end = day_bounds(day)
    faults = [
        Fault("http_429", "binance", day.isoformat()),
        Fault("http_500", "okx", day.isoformat()),
        Fault("html_error", "bybit", day.isoformat()),
        Fault("truncated_json", "coingecko", day.isoformat()),
        Fault("http_429", "coingecko", "2026-01-16"),
    ]
    with fault_sim(*faults) as s:
        other_day = get(s, "binance", "/fapi/v1/fundingRate", symbol="BTCUSDT", startTime=start + 86_400_000)
        assert other_day.status_code == 200

        limited = get(s, "binance", "/fapi/v1/fundingRate", symbol="BTCUSDT", startTime=start, endTime=end)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        assert limited.json()["code"] == -1003
        again = get(s, "binance", "/fapi/v1/fundingRate", symbol="BTCUSDT", startTime=start, endTime=end)
        assert again.status_code == 200 and len(again.json()) == 3

        failed = get(s, "okx", "/api/v5/public/funding-rate-history", instId="BTC-USDT-SWAP", after=end + 1)
        assert failed.status_code == 500
        ok = get(s, "okx", "/api/v5/public/funding-rate-history", instId="BTC-USDT-SWAP", after=end + 1)
        assert ok.status_code == 200 and ok.json()["code"] == "0"

        html = get(s, "bybit", "/v5/market/kline", symbol="BTCUSDT", interval="60", start=start, end=end)
        assert html.status_code == 502 and html.headers["Content-Type"].startswith("text/html")
        assert "<html>" in html.text

        window = {"vs_currency": "usd", "from": start // 1000, "to": end // 1000}
        cut = get(s, "coingecko", "/coins/ethereum/market_chart/range", **window)
        with pytest.raises(ValueError):
            cut.json()
        whole = get(s, "coingecko", "/coins/ethereum/market_chart/range", **window).json()
        assert (
            len(whole["prices"]) == 24
            and cut.content
            == get(s, "coingecko", "/coins/ethereum/market_chart/range", **window).content[: len(cut.content)]
        )

        too_many = get(
            s,
            "coingecko",
            "/coins/bitcoin/market_chart/range",
            vs_currency="usd",
            **{"from": end // 1000 + 1, "to": end // 1000 + 86_400},
        )
        assert too_many.status_code == 429 and too_many.json()["status"]["error_code"] == 429


def test_data_faults_corrupt_one_event_of_that_day() -> None:
    day = "2026-01-20"
    faults = [
        Fault("duplicate_event", "binance", day),
        Fault("negative_size", "binance", day),
        Fault("duplicate_event", "bybit", day),
        Fault("duplicate_event", "okx", day),
        Fault("negative_size", "okx", day),
        Fault("duplicate_event", "coinalyze", day),
        Fault("negative_size", "gate", day),
    ]
    with fault_sim(*faults) as s, Simulator(seed=7, faults=[], now=NOW) as clean:
        lines = tape(s, "binance", day).text.splitlines()
        assert len(lines) == len(tape(clean, "binance", day).text.splitlines()) + 1
        assert len(set(lines)) == len(lines) - 1
        assert sum(json.loads(line)["o"]["q"].startswith("-") for line in lines) >= 1
        assert tape(s, "binance", "2026-01-21").content == tape(clean, "binance", "2026-01-21").content

        events = [
            json.dumps(e, sort_keys=True)
            for line in tape(s, "bybit", day).text.splitlines()
            for e in json.loads(line)["data"]
        ]
        assert len(events) == len(set(events)) + 1

        after = ms(date(2026, 1, 21))
        details = [
            json.dumps(d, sort_keys=True)
            for d in okx_liquidations(s, "BTC", after)
            if int(d["ts"]) >= after - 86_400_000
        ]
        assert len(details) == len(set(details)) + 1
        assert any(d["sz"].startswith("-") for d in okx_liquidations(s, "BTC", after))

        start = after // 1000 - 86_400
        hourly = get(
            s,
            "coinalyze",
            "/liquidation-history",
            symbols="BTC.H",
            interval="1hour",
            convert_to_usd="true",
            **{"from": start, "to": start + 86_399},
        ).json()[0]["history"]
        assert len(hourly) == len({p["t"] for p in hourly}) + 1
        stats = get(s, "gate", "/futures/usdt/contract_stats", contract="BTC_USDT", limit=288, **{"from": start}).json()
        assert sum(r["long_liq_usd"] < 0 for r in stats) == 1


# --- paging ---------------------------------------------------------------------------------------


def test_okx_liquidations_page_backwards_through_a_busy_day(sim: Simulator) -> None:
    start, end = day_bounds(date(2025, 10, 10))
    details = [d for d in okx_liquidations(sim, "SOL", end + 1) if int(d["ts"]) >= start]
    stamps = [int(d["ts"]) for d in details]
    assert len(details) > 500 and stamps == sorted(stamps, reverse=True)
    assert {d["posSide"] for d in details} == {"long", "short", "net"}
    first = get(
        sim,
        "okx",
        "/api/v5/public/liquidation-orders",
        instType="SWAP",
        uly="SOL-USDT",
        state="filled",
        after=end + 1,
        limit=100,
    ).json()["data"][0]
    assert first["instId"] == "SOL-USDT-SWAP" and len(first["details"]) == 100
    usd = sum(float(d["bkPx"]) * float(d["sz"]) * 1.0 for d in details)  # SOL ctVal = 1
    series = get(
        sim,
        "coinalyze",
        "/liquidation-history",
        symbols="SOLUSDT_PERP.3",
        interval="daily",
        convert_to_usd="true",
        **{"from": start // 1000, "to": end // 1000},
    ).json()
    aggregate = series[0]["history"][0]
    assert usd == pytest.approx(aggregate["l"] + aggregate["s"], rel=1e-6)  # the same events, summed


def test_bybit_open_interest_cursor(sim: Simulator) -> None:
    start, end = day_bounds(date(2026, 1, 20))
    window = {"category": "linear", "symbol": "ETHUSDT", "intervalTime": "1h", "startTime": start, "endTime": end}
    whole = get(sim, "bybit", "/v5/market/open-interest", limit=200, **window).json()["result"]
    assert len(whole["list"]) == 24 and whole["nextPageCursor"] == ""
    rows, cursor, pages = [], None, 0
    while True:
        params = {**window, "limit": 5, **({"cursor": cursor} if cursor else {})}
        result = get(sim, "bybit", "/v5/market/open-interest", **params).json()["result"]
        rows += result["list"]
        pages += 1
        cursor = result["nextPageCursor"]
        if not cursor:
            break
        assert "lasttime%3D" in cursor
    assert pages == 5 and rows == whole["list"]
    row = rows[0]
    assert float(row["openInterest"]) == pytest.approx(2 * float(row["singleOpenInterest"]))


def test_deribit_continuation_walks_backwards(sim: Simulator) -> None:
    start, end = day_bounds(date(2026, 1, 20))
    seen: dict[int, list[float]] = {}
    cursor: int | None = end
    while cursor is not None:
        result = get(
            sim,
            "deribit",
            "/public/get_volatility_index_data",
            currency="ETH",
            resolution="60",
            start_timestamp=start,
            end_timestamp=cursor,
        ).json()["result"]
        assert len(result["data"]) <= 1000
        seen.update({row[0]: row for row in result["data"]})
        cursor = result["continuation"] if result["continuation"] and result["continuation"] > start else None
    assert len(seen) == 1440 and min(seen) == start


def test_tapes_follow_the_streams(sim: Simulator) -> None:
    start, end = day_bounds(date(2025, 10, 10))  # the cascade: the throttle matters most
    binance = [json.loads(line) for line in tape(sim, "binance", "2025-10-10").text.splitlines()]
    seconds = [(m["o"]["s"], m["o"]["T"] // 1000) for m in binance]
    assert len(seconds) == len(set(seconds))  # at most one event per symbol per second
    assert all(start <= m["o"]["T"] <= m["E"] <= end for m in binance)
    bybit = [json.loads(line) for line in tape(sim, "bybit", "2025-10-10").text.splitlines()]
    assert all(m["topic"] == f"allLiquidation.{m['data'][0]['s']}" and m["type"] == "snapshot" for m in bybit)
    assert all(
        start <= e["T"] <= m["ts"] <= end and e["T"] // 500 == m["data"][0]["T"] // 500
        for m in bybit
        for e in m["data"]
    )
    assert max(len(m["data"]) for m in bybit) > 1  # a cascade fills the 500 ms batches


# --- wire formats and errors ------------------------------------------------------------------------


def test_error_shapes(sim: Simulator) -> None:
    bad = get(sim, "binance", "/fapi/v1/klines", symbol="FOOUSDT", interval="1h")
    assert bad.status_code == 400 and bad.json() == {"code": -1121, "msg": "Invalid symbol."}
    bybit = get(sim, "bybit", "/v5/market/funding/history", category="linear", symbol="BTCUSDT", startTime=1)
    assert bybit.status_code == 200 and bybit.json()["retCode"] == 10001 and bybit.json()["result"] == {}
    okx = get(sim, "okx", "/api/v5/public/funding-rate-history", instId="FOO-USDT-SWAP")
    assert okx.status_code == 200 and okx.json() == {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
    hl = info(sim, {"type": "fundingHistory", "startTime": 0})
    assert hl.status_code == 422 and hl.headers["Content-Type"].startswith("text/plain")
    assert hl.text.startswith("Failed to deserialize the JSON body into the target type")
    keyless = requests.get(sim.base_url("coinalyze") + "/exchanges", timeout=10)
    assert keyless.status_code == 401 and "message" in keyless.json()
    dvol = get(
        sim,
        "deribit",
        "/public/get_volatility_index_data",
        currency="BTC",
        resolution="300",
        start_timestamp=0,
        end_timestamp=1,
    )
    assert dvol.status_code == 400 and dvol.json()["error"]["code"] == -32602


def test_wire_types_follow_the_references(sim: Simulator) -> None:
    start, end = day_bounds(date(2026, 1, 20))
    funding = get(sim, "binance", "/fapi/v1/fundingRate", symbol="BTCUSDT", startTime=start, endTime=end).json()
    assert [type(r["fundingTime"]) for r in funding] == [int] * 3 and isinstance(funding[0]["fundingRate"], str)
    oi = get(
        sim,
        "binance",
        "/futures/data/openInterestHist",
        symbol="BTCUSDT",
        period="1h",
        startTime=start,
        endTime=end,
        limit=500,
    ).json()
    assert len(oi) == 24 and 7e9 < float(oi[0]["sumOpenInterestValue"]) < 11e9
    kline = get(sim, "binance", "/fapi/v1/klines", symbol="BTCUSDT", interval="1h", startTime=start, limit=1).json()[0]
    assert len(kline) == 12 and isinstance(kline[0], int) and isinstance(kline[1], str) and isinstance(kline[8], int)
    hl = info(sim, {"type": "fundingHistory", "coin": "BTC", "startTime": start, "endTime": end}).json()
    assert len(hl) == 24 and [r["time"] for r in hl] == sorted(r["time"] for r in hl)
    candles = info(
        sim, {"type": "candleSnapshot", "req": {"coin": "SOL", "interval": "1h", "startTime": start, "endTime": end}}
    ).json()
    assert len(candles) == 24 and candles[0]["T"] == candles[0]["t"] + 3_599_999
    meta, contexts = info(sim, {"type": "metaAndAssetCtxs"}).json()
    assert [u["name"] for u in meta["universe"]] == list(ASSETS) and len(contexts) == 5
    bybit = get(sim, "bybit", "/v5/market/kline", symbol="BTCUSDT", interval="60", start=start, end=end).json()
    stamps = [int(r[0]) for r in bybit["result"]["list"]]
    assert len(stamps) == 24 and stamps == sorted(stamps, reverse=True)
    stats = get(
        sim,
        "gate",
        "/futures/usdt/contract_stats",
        contract="BTC_USDT",
        interval="5m",
        limit=288,
        **{"from": start // 1000},
    ).json()
    assert len(stats) == 288 and sum(r["long_liq_usd"] for r in stats) > sum(r["short_liq_usd"] for r in stats)
    markets = get(sim, "coinalyze", "/future-markets").json()
    assert {"BTCUSDT_PERP.A", "BTCUSDT_PERP.6", "BTCUSDT_PERP.3", "BTC.H", "DOGE.H"} <= {m["symbol"] for m in markets}


# --- CoinGlass ------------------------------------------------------------------------------------

CG_PATH = "/api/futures/liquidation/aggregated-history"


def coinglass(sim: Simulator, key: str | None = "test", **params: object) -> requests.Response:
    headers = {"CG-API-KEY": key} if key else {}
    return requests.get(sim.base_url("coinglass") + CG_PATH, params=params, headers=headers, timeout=30)


def test_coinglass_serves_deterministic_bytes_and_rejects_a_missing_key(sim: Simulator) -> None:
    start, end = day_bounds(date(2026, 1, 20))
    query = {"exchange_list": "Bybit", "symbol": "ETH", "interval": "1h", "start_time": start, "end_time": end}
    first = coinglass(sim, **query)
    body = first.json()
    assert first.status_code == 200 and body["code"] == "0" and body["msg"] == "success"
    assert [r["time"] for r in body["data"]] == [start + h * 3_600_000 for h in range(24)]
    assert all(isinstance(r["aggregated_long_liquidation_usd"], float | int) for r in body["data"])
    with Simulator(seed=7, faults=[], now=NOW) as other:
        coinglass(other, **{**query, "symbol": "BTC", "exchange_list": "OKX"})  # other requests first
        assert coinglass(other, **query).content == first.content
    with Simulator(seed=8, faults=[], now=NOW) as different:
        assert coinglass(different, **query).content != first.content

    keyless = coinglass(sim, key=None, **query)
    assert keyless.status_code == 401 and keyless.json()["code"] == "401" and "data" not in keyless.json()
    spaced = coinglass(sim, **{**query, "exchange_list": "Binance, OKX"}).json()
    assert spaced["code"] == "400" and "exchange_list" in spaced["msg"]
    too_many = coinglass(sim, **{**query, "limit": 1001}).json()
    assert too_many["code"] == "400" and "limit" in too_many["msg"]


def test_coinglass_hours_are_the_same_events_as_coinalyze(sim: Simulator) -> None:
    start = ms(SPIKE_HOUR)
    hour = {"symbol": "SOL", "interval": "1h", "start_time": start, "end_time": start + 3_599_999}
    rows = {name: coinglass(sim, exchange_list=name, **hour).json()["data"] for name in ("Binance", "Hyperliquid")}
    both = coinglass(sim, exchange_list="Binance,Hyperliquid", **hour).json()["data"]
    assert all(len(r) == 1 for r in rows.values()) and len(both) == 1
    for code, name in (("A", "Binance"), ("H", "Hyperliquid")):
        symbol = "SOL.H" if code == "H" else f"SOLUSDT_PERP.{code}"
        point = get(
            sim,
            "coinalyze",
            "/liquidation-history",
            symbols=symbol,
            interval="1hour",
            convert_to_usd="true",
            **{"from": start // 1000, "to": start // 1000 + 3599},
        ).json()[0]["history"][0]
        assert rows[name][0]["aggregated_long_liquidation_usd"] == pytest.approx(point["l"], abs=0.01)
        assert rows[name][0]["aggregated_short_liquidation_usd"] == pytest.approx(point["s"], abs=0.01)
    long_sum = sum(r[0]["aggregated_long_liquidation_usd"] for r in rows.values())
    assert both[0]["aggregated_long_liquidation_usd"] == pytest.approx(long_sum, abs=1e-4)


def test_coinglass_client_walks_the_window_in_spans_the_limit_can_hold(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, source = ENDPOINTS["coinglass_liquidations"], SOURCES_BY_NAME["coinglass"]
    window = Window(date(2025, 9, 1), date(2025, 11, 15))  # 76 days = 1824 hours: two spans each
    client = source.client(sim.base_url("coinglass"), demo=True)
    pages = list(endpoint.fetch(FetchContext(client, ("BTC",)), window))
    assert len(pages) == 8 and {p.params["exchange_list"] for p in pages} == {"Binance", "Bybit", "OKX", "Hyperliquid"}
    assert all(p.params["end_time"] - p.params["start_time"] < 1000 * 3_600_000 for p in pages)
    rows = [r for p in pages for r in endpoint.parse(p)]
    hours = {(r["exchange"], r["bucket_start"]) for r in rows}
    assert len(rows) == len(hours) == 4 * 1824
    assert {r["exchange"] for r in rows} == {"binance", "bybit", "okx", "hyperliquid"}

    monkeypatch.delenv("LEVSTRESS_COINGLASS_API_KEY", raising=False)
    keyless = source.client(sim.base_url("coinglass"), demo=False)
    with pytest.raises(SourceError, match="LEVSTRESS_COINGLASS_API_KEY"):
        list(endpoint.fetch(FetchContext(keyless, ("BTC",)), window))


def test_the_position_book_liquidates_what_it_opened_where_its_price_is_reached() -> None:
    """Hand-computed: $100 long at 10x from an entry of 100 (maintenance 0.4 %) sits at
    0.9 / 0.996 x 100 = 90.36; half the positions close in the hour after (open interest fell),
    and the hour whose second step's low is 90 liquidates the other $50 at that step. A level of
    80 is never reached; a short at 10x sits at 1.1 / 1.004 x 100."""
    long_level = 100 * book.liquidation_factor(np.array([10.0]), 0.004, is_long=True)[0]
    assert long_level == pytest.approx(90.3614, abs=1e-4)
    assert 100 * book.liquidation_factor(np.array([10.0]), 0.004, is_long=False)[0] == pytest.approx(109.5618, abs=1e-4)

    cohorts = book.Cohorts(np.array([1, 1]), np.array([long_level, 80.0]), np.array([[100.0], [50.0]]))
    step_low = np.array([[99.0, 98.0], [95.0, 92.0], [91.0, 90.0]])
    log_keep = np.log(np.array([[1.0], [0.5], [0.25]]))  # the last hour's closes come after the liquidation
    per_hour, per_step = book.liquidated(cohorts, step_low, log_keep)
    assert per_hour[:, 0].tolist() == pytest.approx([0.0, 0.0, 50.0])
    assert per_step.tolist() == pytest.approx([0, 0, 0, 0, 0, 50.0])

    # Positions opened at an hour's close cannot be liquidated by that hour's own low.
    assert book.first_reach(np.array([50.0, 95.0, 94.0]), np.array([1]), np.array([94.5])).tolist() == [2]
    assert book.first_reach(np.array([50.0, 95.0, 94.0]), np.array([1]), np.array([60.0])).tolist() == [3]
