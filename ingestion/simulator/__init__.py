"""Built-in market simulator: a seeded, deterministic crypto-derivatives market served over HTTP
on loopback in each real API's wire format, so demo runs exercise the live parsing code.

    from ingestion.simulator import Simulator, Fault
    with Simulator(seed=7) as sim:
        sim.base_url("binance")  # replaces https://fapi.binance.com
"""

from ingestion.simulator.faults import Fault
from ingestion.simulator.server import Simulator

__all__ = ["Fault", "Simulator"]
