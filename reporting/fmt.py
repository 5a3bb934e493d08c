"""Number formats shared by the charts, the HTML tables and the Markdown summary."""

from __future__ import annotations

import math

MISSING = "–"

_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def _absent(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def usd(x: float | None, digits: int = 1) -> str:
    """$245.3M, $1.24B, $512K; the sign goes before the $."""
    if _absent(x):
        return MISSING
    sign = "-" if x < 0 else ""
    a = abs(x)
    for scale, suffix in _SCALES:
        if a >= scale:
            return f"{sign}${a / scale:,.{digits}f}{suffix}"
    return f"{sign}${a:,.0f}"


def usd_tick(x: float, _pos: object = None) -> str:
    """Axis ticks: magnitude only, because shorts are drawn below zero."""
    return "$0" if x == 0 else usd(abs(x), digits=0 if abs(x) >= 10e6 else 1)


def price(x: float | None) -> str:
    """Prices keep about five significant digits: $90,331, $3,012.5, $2.1345, $0.21345."""
    if _absent(x):
        return MISSING
    if abs(x) >= 10_000:
        return f"${x:,.0f}"
    if abs(x) >= 1_000:
        return f"${x:,.1f}"
    if abs(x) >= 1:
        return f"${x:,.4f}".rstrip("0").rstrip(".") if abs(x) < 100 else f"${x:,.2f}"
    return f"${x:.5f}"


def pct(x: float | None, digits: int = 1, signed: bool = True) -> str:
    if _absent(x):
        return MISSING
    return f"{x:+.{digits}f} %" if signed else f"{x:.{digits}f} %"


def share(x: float | None) -> str:
    """A fraction as a whole percent: 0.923 -> 92 %."""
    return MISSING if _absent(x) else f"{100 * x:.0f} %"


def funding(x: float | None) -> str:
    """An 8-hour funding fraction in percent: 0.0001 -> +0.0100 %."""
    return MISSING if _absent(x) else f"{100 * x:+.4f} %"


def score(x: float | None) -> str:
    return MISSING if _absent(x) else f"{x:.0f}"
