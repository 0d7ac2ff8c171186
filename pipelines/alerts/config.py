"""Which sinks are on, from the environment (see interface.md):

| variable | meaning |
|---|---|
| ``UNION_ALERT_WEBHOOK_URL`` / ``UNION_ALERT_WEBHOOK_SECRET`` | webhook endpoint and HMAC secret (both, or neither) |
| ``UNION_SMTP_HOST``, ``UNION_SMTP_PORT`` (25), ``UNION_SMTP_SENDER``, ``UNION_SMTP_RECIPIENTS`` | e-mail (host, sender and recipients together) |

The outbox (``Settings.outbox_path``) is always on. A half-configured sink (a webhook
URL without a secret, an SMTP host without recipients) is an error, not a silent skip.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .sinks import EmailSink, OutboxSink, Sink, WebhookSink


class SinkConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SinkSettings:
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_attempts: int = 4
    webhook_backoff_seconds: float = 1.0
    webhook_timeout_seconds: float = 10.0
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = ""
    smtp_recipients: tuple[str, ...] = ()
    smtp_attempts: int = 3
    smtp_backoff_seconds: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SinkSettings:
        env = os.environ if env is None else env
        port = env.get("UNION_SMTP_PORT", "").strip() or "25"
        if not port.isdigit():
            raise SinkConfigError(f"UNION_SMTP_PORT must be a port number, got {port!r}")
        return cls(
            webhook_url=env.get("UNION_ALERT_WEBHOOK_URL", "").strip(),
            webhook_secret=env.get("UNION_ALERT_WEBHOOK_SECRET", ""),
            smtp_host=env.get("UNION_SMTP_HOST", "").strip(),
            smtp_port=int(port),
            smtp_sender=env.get("UNION_SMTP_SENDER", "").strip(),
            smtp_recipients=tuple(
                r.strip() for r in env.get("UNION_SMTP_RECIPIENTS", "").split(",") if r.strip()
            ),
        )

    def validate(self) -> None:
        if self.webhook_url and not self.webhook_secret:
            raise SinkConfigError(
                "UNION_ALERT_WEBHOOK_URL is set but UNION_ALERT_WEBHOOK_SECRET is not: "
                "webhook alerts are always signed"
            )
        if self.webhook_url and not self.webhook_url.startswith(("http://", "https://")):
            raise SinkConfigError("UNION_ALERT_WEBHOOK_URL must be an http:// or https:// URL")
        smtp = (self.smtp_host, self.smtp_sender, self.smtp_recipients)
        if any(smtp) and not all(smtp):
            raise SinkConfigError(
                "e-mail alerts need UNION_SMTP_HOST, UNION_SMTP_SENDER and "
                "UNION_SMTP_RECIPIENTS together"
            )

    def build(self, outbox_path: Path) -> list[Sink]:
        """The outbox, then the webhook and e-mail when configured."""
        self.validate()
        sinks: list[Sink] = [OutboxSink(outbox_path)]
        if self.webhook_url:
            sinks.append(
                WebhookSink(
                    self.webhook_url,
                    self.webhook_secret,
                    self.webhook_attempts,
                    self.webhook_backoff_seconds,
                    self.webhook_timeout_seconds,
                )
            )
        if self.smtp_host:
            sinks.append(
                EmailSink(
                    self.smtp_host,
                    self.smtp_port,
                    self.smtp_sender,
                    self.smtp_recipients,
                    self.smtp_attempts,
                    self.smtp_backoff_seconds,
                )
            )
        return sinks


def sinks_from_env(outbox_path: Path, env: Mapping[str, str] | None = None) -> list[Sink]:
    return SinkSettings.from_env(env).build(outbox_path)
