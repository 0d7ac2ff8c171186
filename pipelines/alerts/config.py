"""Which sinks are on, from the environment (see interface.md):

| variable | meaning |
|---|---|
| ``UNION_ALERT_WEBHOOK_URL`` / ``UNION_ALERT_WEBHOOK_SECRET`` | webhook endpoint and HMAC secret (both, or neither) |
| ``UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS`` | how long one POST waits for an answer (default 10); a run spends at most three times that on the webhook |
| ``UNION_SMTP_HOST``, ``UNION_SMTP_PORT``, ``UNION_SMTP_SENDER``, ``UNION_SMTP_RECIPIENTS`` | e-mail (host, sender and recipients together) |
| ``UNION_SMTP_SECURITY`` | ``none`` (default), ``starttls`` or ``tls``; the default port follows (25, 587, 465) |
| ``UNION_SMTP_USER`` / ``UNION_SMTP_PASSWORD`` | log in to the server (both, or neither; only over ``starttls`` or ``tls``) |
| ``UNION_SMTP_CA_FILE`` | a CA bundle to trust instead of the system's (a server certified by a private CA) |

The outbox (``Settings.outbox_path``) is always on. A half-configured sink (a webhook
URL without a secret, an SMTP host without recipients, a user without a password) is
an error, not a silent skip; so is a password that would cross the network in clear.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints

from .sinks import SMTP_DEFAULT_PORTS, SMTP_SECURITY, EmailSink, OutboxSink, Sink, WebhookSink


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
    smtp_security: str = "none"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_ca_file: str = ""

    # --- the same settings as flat configuration (a Dagster resource's fields) ------------
    # Every field keeps its name, type and default, but the recipients are one
    # comma-separated string: configuration takes no tuples.

    @classmethod
    def config_fields(cls) -> dict[str, tuple[type, Any]]:
        """name -> (type, default) of every setting as configuration: what a resource
        declares (e.g. ``pydantic.create_model(..., __base__=dg.ConfigurableResource,
        **SinkSettings.config_fields())``) so its fields never drift from these."""
        hints = get_type_hints(cls)
        out: dict[str, tuple[type, Any]] = {f.name: (hints[f.name], f.default) for f in fields(cls)}
        out["smtp_recipients"] = (str, "")
        return out

    def to_config(self) -> dict[str, Any]:
        """These settings as configuration values (see :meth:`config_fields`)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["smtp_recipients"] = ",".join(self.smtp_recipients)
        return values

    @classmethod
    def from_config(cls, config: Any) -> SinkSettings:
        """The settings from an object carrying :meth:`config_fields` as attributes (a
        resource), or from a mapping of them; the inverse of :meth:`to_config`."""
        get = config.__getitem__ if isinstance(config, Mapping) else lambda name: getattr(config, name)
        values = {f.name: get(f.name) for f in fields(cls)}
        values["smtp_recipients"] = tuple(r.strip() for r in values["smtp_recipients"].split(",") if r.strip())
        return cls(**values)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SinkSettings:
        env = os.environ if env is None else env
        security = env.get("UNION_SMTP_SECURITY", "").strip().lower() or "none"
        # an unknown mode keeps port 25 here; validate() rejects it
        port = env.get("UNION_SMTP_PORT", "").strip() or str(SMTP_DEFAULT_PORTS.get(security, 25))
        if not port.isdigit():
            raise SinkConfigError(f"UNION_SMTP_PORT must be a port number, got {port!r}")
        timeout = env.get("UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS", "").strip()
        try:
            webhook_timeout = float(timeout) if timeout else cls.webhook_timeout_seconds
        except ValueError:
            webhook_timeout = math.nan
        if not (math.isfinite(webhook_timeout) and webhook_timeout > 0):
            raise SinkConfigError(
                f"UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS must be a number of seconds above 0, got {timeout!r}"
            )
        return cls(
            webhook_timeout_seconds=webhook_timeout,
            smtp_security=security,
            smtp_user=env.get("UNION_SMTP_USER", "").strip(),
            smtp_password=env.get("UNION_SMTP_PASSWORD", ""),
            smtp_ca_file=env.get("UNION_SMTP_CA_FILE", "").strip(),
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
        if not self.webhook_timeout_seconds > 0:
            raise SinkConfigError("the webhook timeout must be above 0 seconds")
        smtp = (self.smtp_host, self.smtp_sender, self.smtp_recipients)
        if any(smtp) and not all(smtp):
            raise SinkConfigError(
                "e-mail alerts need UNION_SMTP_HOST, UNION_SMTP_SENDER and "
                "UNION_SMTP_RECIPIENTS together"
            )
        if self.smtp_security not in SMTP_SECURITY:
            raise SinkConfigError(
                f"UNION_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, got {self.smtp_security!r}"
            )
        if bool(self.smtp_user) != bool(self.smtp_password):
            raise SinkConfigError("UNION_SMTP_USER and UNION_SMTP_PASSWORD go together")
        if self.smtp_password and self.smtp_security == "none":
            raise SinkConfigError(
                "UNION_SMTP_PASSWORD is set but UNION_SMTP_SECURITY is none: the password would "
                "cross the network in clear (set starttls or tls)"
            )
        if self.smtp_ca_file and not Path(self.smtp_ca_file).is_file():
            raise SinkConfigError(f"UNION_SMTP_CA_FILE is not a file: {self.smtp_ca_file}")

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
                    security=self.smtp_security,
                    user=self.smtp_user,
                    password=self.smtp_password,
                    ca_file=self.smtp_ca_file,
                )
            )
        return sinks


def sinks_from_env(outbox_path: Path, env: Mapping[str, str] | None = None) -> list[Sink]:
    return SinkSettings.from_env(env).build(outbox_path)
