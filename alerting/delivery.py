"""POST alerts as JSON to a webhook (Slack-compatible: the message is in ``text``), with retries."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from alerting.ledger import AlertLedger
from ingestion.http import HttpSettings, retrying_session

WEBHOOK_SETTINGS = HttpSettings(connect_timeout_s=5.0, read_timeout_s=10.0, retries=4, backoff_factor_s=0.5)


@dataclass(frozen=True)
class Alert:
    """One row of ``marts.fct_alerts``."""

    alert_id: str
    date: date
    alert_type: str
    asset: str
    exchange: str | None
    observed_at: datetime | None
    observed_value: float | None
    threshold_value: float | None
    message: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Alert:
        """From a pandas record: timestamps become date / datetime, NaN / NaT become None."""
        values = {k: (None if _missing(v) else v) for k, v in row.items() if k in cls.__dataclass_fields__}
        values["date"] = _as_date(values["date"])
        if values.get("observed_at") is not None:
            values["observed_at"] = values["observed_at"].to_pydatetime()
        return cls(**values)

    def payload(self) -> dict[str, Any]:
        fields = {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in asdict(self).items()}
        return {"text": f"levstress {self.date.isoformat()}: {self.message}", "levstress_alert": fields}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value) == "NaT"


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass
class DeliveryOutcome:
    new: list[Alert]
    delivered: int = 0
    recorded_without_webhook: int = 0
    failures: list[str] | None = None


def deliver(
    alerts: list[Alert], ledger: AlertLedger, webhook_url: str | None, settings: HttpSettings = WEBHOOK_SETTINGS
) -> DeliveryOutcome:
    """Send every alert not yet in the ledger. Without a webhook the new alerts are only recorded
    (they still show in Dagster). A failed POST is not recorded, so the next run tries again; it
    never fails the pipeline."""
    seen = ledger.delivered()
    outcome = DeliveryOutcome(new=[a for a in alerts if a.alert_id not in seen], failures=[])
    if not webhook_url:
        for alert in outcome.new:
            ledger.record(alert.alert_id, "recorded", "no webhook configured")
        outcome.recorded_without_webhook = len(outcome.new)
        return outcome
    session = retrying_session(settings)
    try:
        for alert in outcome.new:
            problem = _post(session, webhook_url, alert, (settings.connect_timeout_s, settings.read_timeout_s))
            if problem is None:
                ledger.record(alert.alert_id, "delivered")
                outcome.delivered += 1
            else:
                ledger.record(alert.alert_id, "failed", problem)
                outcome.failures.append(f"{alert.alert_id[:12]}: {problem}")
    finally:
        session.close()
    return outcome


def _post(session: requests.Session, url: str, alert: Alert, timeout: tuple[float, float]) -> str | None:
    try:
        response = session.post(url, json=alert.payload(), timeout=timeout)
    except requests.RequestException as exc:
        return f"POST to {redacted(url)} failed after retries: {exc.__class__.__name__}"
    if response.status_code >= 300:
        return f"POST to {redacted(url)} answered HTTP {response.status_code} after retries"
    return None


def redacted(url: str) -> str:
    """Webhook URLs carry their secret in the path (Slack: /services/T.../B.../token): keep the host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}/…"
