"""Alert delivery: each alert of ``marts.fct_alerts`` is shown once and POSTed once to a webhook.
Knows HTTP and files, nothing of Dagster."""

from alerting.delivery import Alert, DeliveryOutcome, deliver
from alerting.ledger import AlertLedger

__all__ = ["Alert", "AlertLedger", "DeliveryOutcome", "deliver"]
