"""Static facts about the simulated instruments: assets, venues and contract specifications."""

from __future__ import annotations

from dataclasses import dataclass

ASSETS: tuple[str, ...] = ("BTC", "ETH", "SOL", "XRP", "DOGE")
EXCHANGES: tuple[str, ...] = ("binance", "bybit", "okx", "hyperliquid", "gate")
ASSET_INDEX = {a: i for i, a in enumerate(ASSETS)}
EXCHANGE_INDEX = {e: i for i, e in enumerate(EXCHANGES)}
DVOL_CURRENCIES: tuple[str, ...] = ("BTC", "ETH")


@dataclass(frozen=True)
class AssetSpec:
    name: str
    tick: float  # price increment on the perpetuals
    price_decimals: int
    binance_step: float  # quantity increments, base coin
    bybit_step: float
    okx_ct_val: float  # coins per OKX contract (ctVal, ctMult = 1)
    gate_quanto: float  # coins per Gate contract (quanto_multiplier)
    hl_sz_decimals: int
    hl_max_leverage: int

    @property
    def qty_decimals_binance(self) -> int:
        return decimals_of(self.binance_step)

    @property
    def qty_decimals_bybit(self) -> int:
        return decimals_of(self.bybit_step)


SPECS: dict[str, AssetSpec] = {
    "BTC": AssetSpec("BTC", 0.1, 2, 0.001, 0.001, 0.01, 0.0001, 5, 40),
    "ETH": AssetSpec("ETH", 0.01, 2, 0.001, 0.01, 0.1, 0.01, 4, 25),
    "SOL": AssetSpec("SOL", 0.01, 3, 0.01, 0.1, 1.0, 1.0, 2, 20),
    "XRP": AssetSpec("XRP", 0.0001, 4, 0.1, 1.0, 100.0, 10.0, 0, 20),
    "DOGE": AssetSpec("DOGE", 0.00001, 6, 1.0, 1.0, 1000.0, 10.0, 0, 10),
}
OKX_LOT = 0.01  # OKX swap sizes (in contracts) move in 0.01 steps


def decimals_of(step: float) -> int:
    text = f"{step:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def binance_symbol(asset: str) -> str:
    return f"{asset}USDT"


def okx_inst(asset: str) -> str:
    return f"{asset}-USDT-SWAP"


def gate_contract(asset: str) -> str:
    return f"{asset}_USDT"


def asset_from_symbol(symbol: str) -> str | None:
    """BTCUSDT, BTC-USDT-SWAP, BTC-USDT, BTC_USDT and BTC all name the asset BTC."""
    for suffix in ("-USDT-SWAP", "-USDT", "_USDT", "USDT"):
        if symbol.endswith(suffix):
            symbol = symbol[: -len(suffix)]
            break
    return symbol if symbol in ASSET_INDEX else None


# Coinalyze exchange codes (the full list a real /exchanges call returns).
COINALYZE_EXCHANGES: tuple[tuple[str, str], ...] = (
    ("Binance", "A"),
    ("Bybit", "6"),
    ("OKX", "3"),
    ("Hyperliquid", "H"),
    ("BitMEX", "0"),
    ("Deribit", "2"),
    ("Huobi", "4"),
    ("Phemex", "7"),
    ("dYdX", "8"),
    ("WOO X", "W"),
    ("Coinbase", "C"),
    ("Bitfinex", "F"),
    ("Kraken", "K"),
    ("Gemini", "G"),
    ("Gate.io", "Y"),
    ("Bitstamp", "B"),
    ("Poloniex", "P"),
    ("Vertex", "V"),
    ("Bitforex", "D"),
    ("Bithumb", "U"),
    ("BitFlyer", "L"),
    ("BtcMarkets", "M"),
    ("Bit2c", "I"),
    ("MercadoBitcoin", "E"),
    ("Independent Reserve", "N"),
    ("Luno", "J"),
)
# The venues whose markets the simulator lists on Coinalyze, by code.
COINALYZE_VENUES: dict[str, str] = {"A": "binance", "6": "bybit", "3": "okx", "H": "hyperliquid"}


def coinalyze_symbol(code: str, asset: str) -> str:
    return f"{asset}.H" if code == "H" else f"{asset}USDT_PERP.{code}"


def coinalyze_symbol_on_exchange(code: str, asset: str) -> str:
    return {"A": binance_symbol(asset), "6": binance_symbol(asset), "3": okx_inst(asset)}.get(code, asset)
