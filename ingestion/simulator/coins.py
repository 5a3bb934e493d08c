"""The CoinGecko universe: ~70 coins with realistic ids, priced hourly on the simulator's grid.

The five tracked assets take the market's own price path (so market cap = price x supply agrees
with every venue); wrapped and staked tokens follow their underlying; stablecoins stay near $1;
every other coin follows a blend of BTC and the tracked alts with its own slow noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.simulator.catalog import ASSET_INDEX
from ingestion.simulator.market import Market, lerp
from ingestion.simulator.streams import Streams
from ingestion.simulator.timegrid import DAY_MS, HOUR_MS, N_HOURS, ORIGIN_MS, PAST_HOURS, STEPS_PER_HOUR, parse_ts

REFERENCE_MS = parse_ts("2026-01-25T00:00")  # reference prices and supplies below are as of this moment
BTC_SUPPLY_AT_REFERENCE = 19.97e6
BTC_ISSUED_PER_DAY = 450.0  # 3.125 BTC x 144 blocks


@dataclass(frozen=True)
class Coin:
    id: str
    symbol: str
    name: str
    kind: str  # tracked | stable | wrapped | alt | gold
    price: float  # at REFERENCE_MS (ignored for tracked and wrapped coins)
    supply: float  # circulating
    max_supply: float | None = None
    beta: float = 1.0
    track: str | None = None  # tracked asset: its own path, or the underlying of a wrapped token
    ratio: float = 1.0  # wrapped token price / underlying price
    ath: float | None = None  # all-time high before the simulation starts
    ath_date: str = "2021-11-10T14:24:11.849Z"
    atl: float | None = None
    atl_date: str = "2020-03-13T02:22:55.044Z"
    volume_ratio: float = 0.04  # 24 h volume / market cap
    image: int = 1


def _t(
    cid: str,
    sym: str,
    name: str,
    supply: float,
    max_supply: float | None,
    ath: float,
    ath_date: str,
    atl: float,
    atl_date: str,
    vr: float,
    img: int,
) -> Coin:
    return Coin(
        cid, sym, name, "tracked", 0.0, supply, max_supply, 1.0, sym.upper(), 1.0, ath, ath_date, atl, atl_date, vr, img
    )


def _s(cid: str, sym: str, name: str, supply: float, vr: float, img: int) -> Coin:
    return Coin(
        cid,
        sym,
        name,
        "stable",
        1.0,
        supply,
        None,
        0.0,
        ath=1.32,
        ath_date="2018-07-24T00:00:00.000Z",
        atl=0.572521,
        volume_ratio=vr,
        image=img,
    )


def _w(cid: str, sym: str, name: str, track: str, ratio: float, supply: float, img: int) -> Coin:
    return Coin(cid, sym, name, "wrapped", 0.0, supply, None, 1.0, track, ratio, volume_ratio=0.004, image=img)


def _a(
    cid: str,
    sym: str,
    name: str,
    price: float,
    supply: float,
    max_supply: float | None = None,
    beta: float = 1.1,
    ath_mult: float = 3.0,
    img: int = 0,
) -> Coin:
    return Coin(
        cid,
        sym,
        name,
        "alt",
        price,
        supply,
        max_supply,
        beta,
        ath=price * ath_mult,
        atl=price / 40.0,
        image=img or 10000 + len(cid) * 37,
    )


COINS: tuple[Coin, ...] = (
    _t(
        "bitcoin",
        "btc",
        "Bitcoin",
        BTC_SUPPLY_AT_REFERENCE,
        21e6,
        111970.0,
        "2025-05-22T18:41:28.492Z",
        67.81,
        "2013-07-06T00:00:00.000Z",
        0.028,
        1,
    ),
    _t(
        "ethereum",
        "eth",
        "Ethereum",
        120.7e6,
        None,
        4878.26,
        "2021-11-10T14:24:19.604Z",
        0.432979,
        "2015-10-20T00:00:00.000Z",
        0.07,
        279,
    ),
    _s("tether", "usdt", "Tether", 186.5e9, 0.45, 325),
    _t(
        "ripple",
        "xrp",
        "XRP",
        60.6e9,
        100e9,
        3.4,
        "2018-01-07T00:00:00.000Z",
        0.00268621,
        "2014-05-22T00:00:00.000Z",
        0.03,
        44,
    ),
    _a("binancecoin", "bnb", "BNB", 880.0, 137.7e6, 200e6, beta=0.8, ath_mult=1.15, img=825),
    _t(
        "solana",
        "sol",
        "Solana",
        562e6,
        None,
        293.31,
        "2025-01-19T11:15:27.957Z",
        0.500801,
        "2020-05-11T19:35:23.449Z",
        0.06,
        4128,
    ),
    _s("usd-coin", "usdc", "USDC", 74.8e9, 0.12, 6319),
    _w("staked-ether", "steth", "Lido Staked Ether", "ETH", 0.9993, 8.95e6, 13442),
    _a("tron", "trx", "TRON", 0.30, 94.7e9, beta=0.5, ath_mult=1.5, img=1094),
    _t(
        "dogecoin",
        "doge",
        "Dogecoin",
        151.8e9,
        None,
        0.731578,
        "2021-05-08T05:08:23.458Z",
        8.69e-05,
        "2015-05-06T00:00:00.000Z",
        0.08,
        5,
    ),
    _a("cardano", "ada", "Cardano", 0.36, 36.3e9, 45e9, beta=1.2, ath_mult=8.6, img=975),
    _w("wrapped-steth", "wsteth", "Wrapped stETH", "ETH", 1.2185, 3.35e6, 18834),
    _a("hyperliquid", "hype", "Hyperliquid", 24.0, 337e6, 1e9, beta=1.3, ath_mult=2.5, img=50882),
    _w("wrapped-bitcoin", "wbtc", "Wrapped Bitcoin", "BTC", 0.9995, 128e3, 7598),
    _a("chainlink", "link", "Chainlink", 12.5, 678e6, 1e9, beta=1.25, ath_mult=4.2, img=877),
    _a("stellar", "xlm", "Stellar", 0.22, 32.3e9, 50e9, beta=1.2, ath_mult=4.0, img=100),
    _a("sui", "sui", "Sui", 1.55, 3.72e9, 10e9, beta=1.5, ath_mult=3.5, img=26375),
    _w("weth", "weth", "WETH", "ETH", 1.0, 2.1e6, 2518),
    _a("bitcoin-cash", "bch", "Bitcoin Cash", 540.0, 19.97e6, 21e6, beta=1.0, ath_mult=7.0, img=780),
    _a("hedera-hashgraph", "hbar", "Hedera", 0.115, 42.6e9, 50e9, beta=1.3, ath_mult=5.0, img=3688),
    _s("ethena-usde", "usde", "Ethena USDe", 6.4e9, 0.03, 33613),
    _a("avalanche-2", "avax", "Avalanche", 12.4, 430e6, 720e6, beta=1.35, ath_mult=11.8, img=12559),
    _a("leo-token", "leo", "LEO Token", 9.1, 920e6, beta=0.2, ath_mult=1.1, img=8418),
    _a("litecoin", "ltc", "Litecoin", 70.0, 76.7e6, 84e6, beta=1.05, ath_mult=5.8, img=2),
    _w("coinbase-wrapped-btc", "cbbtc", "Coinbase Wrapped BTC", "BTC", 1.0, 76e3, 40143),
    _a("the-open-network", "ton", "Toncoin", 1.6, 2.5e9, beta=0.9, ath_mult=5.1, img=17980),
    _a("shiba-inu", "shib", "Shiba Inu", 7.9e-06, 589.2e12, beta=1.4, ath_mult=11.0, img=11939),
    _s("usds", "usds", "USDS", 8.5e9, 0.004, 39926),
    _a("monero", "xmr", "Monero", 440.0, 18.45e6, beta=0.6, ath_mult=1.3, img=69),
    _w("wrapped-eeth", "weeth", "Wrapped eETH", "ETH", 1.0772, 2.35e6, 33033),
    _a("polkadot", "dot", "Polkadot", 1.95, 1.65e9, beta=1.3, ath_mult=28.0, img=12171),
    _a("crypto-com-chain", "cro", "Cronos", 0.095, 35.5e9, 100e9, beta=1.1, ath_mult=10.0, img=7310),
    _s("usd1-wlfi", "usd1", "USD1", 3.1e9, 0.2, 54977),
    _a("uniswap", "uni", "Uniswap", 4.9, 630e6, 1e9, beta=1.3, ath_mult=9.0, img=12504),
    _a("mantle", "mnt", "Mantle", 0.95, 3.25e9, beta=1.2, ath_mult=3.0, img=30980),
    _a("bittensor", "tao", "Bittensor", 230.0, 10.4e6, 21e6, beta=1.4, ath_mult=3.3, img=28452),
    _a("aave", "aave", "Aave", 165.0, 15.2e6, 16e6, beta=1.3, ath_mult=4.0, img=12645),
    _a("pepe", "pepe", "Pepe", 5.2e-06, 420.69e12, 420.69e12, beta=1.7, ath_mult=5.3, img=29850),
    _a("near", "near", "NEAR Protocol", 1.55, 1.28e9, beta=1.35, ath_mult=13.0, img=10365),
    _a("okb", "okb", "OKB", 108.0, 21e6, 21e6, beta=0.7, ath_mult=2.3, img=4463),
    _a("internet-computer", "icp", "Internet Computer", 3.3, 545e6, beta=1.3, ath_mult=100.0, img=14495),
    _a("ethereum-classic", "etc", "Ethereum Classic", 11.8, 154e6, 210.7e6, beta=1.1, ath_mult=14.0, img=453),
    _a("aptos", "apt", "Aptos", 1.55, 760e6, beta=1.4, ath_mult=13.0, img=26455),
    _a("ondo-finance", "ondo", "Ondo", 0.34, 3.16e9, 10e9, beta=1.4, ath_mult=6.3, img=26580),
    _a("pi-network", "pi", "Pi Network", 0.19, 8.3e9, 100e9, beta=0.6, ath_mult=15.0, img=54342),
    _a("kaspa", "kas", "Kaspa", 0.042, 26.8e9, 28.7e9, beta=1.2, ath_mult=4.4, img=25751),
    _a("algorand", "algo", "Algorand", 0.125, 8.75e9, 10e9, beta=1.3, ath_mult=30.0, img=4380),
    _a("cosmos", "atom", "Cosmos Hub", 2.3, 480e6, beta=1.25, ath_mult=19.0, img=1481),
    _a("vechain", "vet", "VeChain", 0.0112, 86e9, 86.7e9, beta=1.3, ath_mult=25.0, img=1167),
    _a("render-token", "render", "Render", 1.65, 518e6, 533e6, beta=1.5, ath_mult=8.0, img=11636),
    _a("arbitrum", "arb", "Arbitrum", 0.18, 5.8e9, 10e9, beta=1.45, ath_mult=13.0, img=16547),
    _a("filecoin", "fil", "Filecoin", 1.35, 720e6, 2e9, beta=1.3, ath_mult=180.0, img=12817),
    _a("official-trump", "trump", "Official Trump", 4.9, 200e6, 1e9, beta=1.5, ath_mult=15.0, img=53746),
    _a("worldcoin-wld", "wld", "Worldcoin", 0.46, 2.6e9, 10e9, beta=1.5, ath_mult=25.0, img=31069),
    _a("sky", "sky", "Sky", 0.066, 21.3e9, 23.5e9, beta=1.0, ath_mult=1.6, img=39925),
    _a("jupiter-exchange-solana", "jup", "Jupiter", 0.21, 3.1e9, 10e9, beta=1.5, ath_mult=9.3, img=34188),
    _a("bonk", "bonk", "Bonk", 9.6e-06, 88e12, 88.9e12, beta=1.8, ath_mult=6.1, img=28600),
    _a("injective-protocol", "inj", "Injective", 4.6, 100e6, 100e6, beta=1.5, ath_mult=11.0, img=12882),
    _a("optimism", "op", "Optimism", 0.31, 1.9e9, 4.29e9, beta=1.45, ath_mult=15.0, img=25244),
    _a("blockstack", "stx", "Stacks", 0.33, 1.78e9, 1.818e9, beta=1.4, ath_mult=11.0, img=2069),
    _a("the-graph", "grt", "The Graph", 0.046, 10.8e9, beta=1.4, ath_mult=62.0, img=13397),
    _a(
        "fetch-ai",
        "fet",
        "Artificial Superintelligence Alliance",
        0.26,
        2.6e9,
        2.72e9,
        beta=1.5,
        ath_mult=13.0,
        img=5681,
    ),
    _a("sei-network", "sei", "Sei", 0.115, 6.3e9, 10e9, beta=1.5, ath_mult=10.0, img=28205),
    _a("immutable-x", "imx", "Immutable", 0.26, 1.97e9, 2e9, beta=1.45, ath_mult=37.0, img=17233),
    _a("celestia", "tia", "Celestia", 0.52, 830e6, beta=1.5, ath_mult=39.0, img=31967),
    _a("lido-dao", "ldo", "Lido DAO", 0.56, 895e6, 1e9, beta=1.4, ath_mult=13.0, img=13573),
    Coin(
        "tether-gold",
        "xaut",
        "Tether Gold",
        "gold",
        4950.0,
        0.52e6,
        None,
        0.0,
        ath=5100.0,
        ath_date="2026-01-21T09:12:44.218Z",
        atl=1625.0,
        volume_ratio=0.05,
        image=10481,
    ),
    _a(
        "world-liberty-financial",
        "wlfi",
        "World Liberty Financial",
        0.15,
        27e9,
        100e9,
        beta=1.2,
        ath_mult=2.2,
        img=50767,
    ),
    _a("ethena", "ena", "Ethena", 0.21, 7.9e9, 15e9, beta=1.6, ath_mult=7.8, img=36530),
    _a("pudgy-penguins", "pengu", "Pudgy Penguins", 0.011, 62.9e9, 88.9e9, beta=1.7, ath_mult=5.0, img=52622),
    _a("zcash", "zec", "Zcash", 350.0, 16.4e6, 21e6, beta=0.9, ath_mult=15.0, img=486),
)
COIN_INDEX = {c.id: i for i, c in enumerate(COINS)}
TRACKED_COIN = {c.track: c for c in COINS if c.kind == "tracked"}


def supply_of(coin: Coin, times_ms: np.ndarray) -> np.ndarray:
    """Circulating supply; only bitcoin's changes materially over the simulated years."""
    times = np.asarray(times_ms, dtype=np.float64)
    if coin.id == "bitcoin":
        return BTC_SUPPLY_AT_REFERENCE + BTC_ISSUED_PER_DAY * (times - REFERENCE_MS) / DAY_MS
    return np.full(times.shape, coin.supply)


class Universe:
    """Hourly price and volume of every coin (rows: hour points from the origin)."""

    def __init__(self, market: Market, seed: int) -> None:
        rng = Streams([seed, 0xC01])
        self.hour_times = market.hour_times
        tracked = np.log(market.price[::STEPS_PER_HOUR][: N_HOURS + 1])  # (hours, 5 assets)
        ref = (REFERENCE_MS - ORIGIN_MS) // HOUR_MS
        rel_btc = tracked[:, 0] - tracked[ref, 0]
        rel_alts = (tracked[:, 1:] - tracked[ref, 1:]).mean(axis=1)
        factor = 0.5 * rel_btc + 0.5 * rel_alts  # altcoins move with the tracked alts as much as with BTC
        idio = rng.ar1((N_HOURS + 1, len(COINS)), PAST_HOURS, 1 - 1 / 1440)
        noise = np.exp(0.2 * rng.normal((N_HOURS + 1, len(COINS)), PAST_HOURS))
        self.price = np.empty((N_HOURS + 1, len(COINS)))
        for i, coin in enumerate(COINS):
            self.price[:, i] = self._path(coin, tracked, factor, idio[:, i] - idio[ref, i])
        self.volume_noise = noise

    @staticmethod
    def _path(coin: Coin, tracked: np.ndarray, factor: np.ndarray, idio: np.ndarray) -> np.ndarray:
        if coin.kind in ("tracked", "wrapped"):
            return coin.ratio * np.exp(tracked[:, ASSET_INDEX[coin.track or ""]])
        if coin.kind == "stable":
            return 1.0 + 0.0004 * idio
        if coin.kind == "gold":
            return coin.price * np.exp(0.08 * idio)
        return coin.price * np.exp(coin.beta * factor + 0.16 * idio)

    def price_at(self, index: int, times_ms: np.ndarray) -> np.ndarray:
        return lerp(self.price[:, index], times_ms, HOUR_MS)

    def volume_at(self, index: int, times_ms: np.ndarray) -> np.ndarray:
        """24 h volume in USD: a share of the market cap, higher after big moves."""
        coin = COINS[index]
        price = self.price_at(index, times_ms)
        day_ago = self.price_at(index, np.asarray(times_ms) - DAY_MS)
        move = np.abs(np.log(price / day_ago))
        noise = lerp(self.volume_noise[:, index], times_ms, HOUR_MS)
        return coin.volume_ratio * price * supply_of(coin, times_ms) * (1 + 4 * move) * noise
