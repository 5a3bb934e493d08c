"""Alerts, after publishing: the run's rows of marts.fct_alerts are shown as a WARN asset check
and each new one is POSTed once to ``LEVSTRESS_ALERT_WEBHOOK_URL`` (alerting/)."""

import os

import dagster as dg

from alerting import Alert, AlertLedger, deliver
from orchestration import settings
from orchestration.partitions import run_window_days
from orchestration.publish import published_snapshot
from orchestration.resources import WarehouseResource

ALERTS_KEY = dg.AssetKey(["serving", "market_alerts"])
WEBHOOK_ENV = "LEVSTRESS_ALERT_WEBHOOK_URL"


@dg.asset(
    key=ALERTS_KEY,
    deps=[published_snapshot],
    group_name="publish",
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={settings.warehouse()},
    owners=["team:levstress"],
    check_specs=[dg.AssetCheckSpec("no_alerts", asset=ALERTS_KEY, blocking=False)],
    description="Alert conditions of the run's days (marts.fct_alerts: stress level rising to high/extreme, hourly "
    "spikes above a USD threshold, long liquidations clustered near the 7-day low). Each alert is POSTed once to "
    f"${WEBHOOK_ENV} when it is set; the no_alerts check warns while any is present.",
)
def market_alerts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    days = run_window_days(context)
    frame = warehouse.engine().read_days("marts", "fct_alerts", "date", days)
    alerts = sorted((Alert.from_row(r) for r in frame.to_dict("records")), key=lambda a: (a.date, a.alert_type))
    outcome = deliver(alerts, AlertLedger(warehouse.paths().alert_ledger), os.environ.get(WEBHOOK_ENV))
    for failure in outcome.failures or []:
        context.log.warning(f"alert not delivered (retried next run): {failure}")
    table = _markdown(alerts, {a.alert_id for a in outcome.new})
    return dg.MaterializeResult(
        metadata={
            "alerts": len(alerts),
            "new_alerts": len(outcome.new),
            "delivered_to_webhook": outcome.delivered,
            "delivery_failures": len(outcome.failures or []),
            "alerts_table": dg.MetadataValue.md(table),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="no_alerts",
                passed=not alerts,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"alerts": len(alerts), "alerts_table": dg.MetadataValue.md(table)},
            )
        ],
    )


def _markdown(alerts: list[Alert], new_ids: set[str]) -> str:
    if not alerts:
        return "No alert condition in this run's days."
    lines = ["| date | type | asset | exchange | new | message |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {a.date} | {a.alert_type} | {a.asset} | {a.exchange or ''} | {'yes' if a.alert_id in new_ids else ''} "
        f"| {a.message} |"
        for a in alerts
    ]
    return "\n".join(lines)
