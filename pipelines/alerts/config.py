"""Which sinks are on, from the environment (see interface.md). Every variable is
declared here, once, in :data:`ENV_VARS` (the setting it sets), and the secret ones in
:data:`SECRET_SETTINGS`:

| variable | meaning |
|---|---|
| ``UNION_ALERT_WEBHOOK_URL`` / ``UNION_ALERT_WEBHOOK_SECRET`` | webhook endpoint and HMAC secret (both, or neither) |
| ``UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS`` | how long one POST waits for an answer (default 10); a run spends at most three times that on the webhook |
| ``UNION_SMTP_HOST``, ``UNION_SMTP_PORT``, ``UNION_SMTP_SENDER``, ``UNION_SMTP_RECIPIENTS`` | e-mail (host, sender and recipients together) |
| ``UNION_SMTP_SECURITY`` | ``none`` (default), ``starttls`` or ``tls``; the default port follows (25, 587, 465) |
| ``UNION_SMTP_USER`` / ``UNION_SMTP_PASSWORD`` | log in to the server (both, or neither; only over ``starttls`` or ``tls``) |
| ``UNION_SMTP_CA_FILE`` | a CA bundle to trust instead of the system's (a server certified by a private CA) |
| ``UNION_ALERT_WECOM_URL`` | a WeCom (企业微信) group robot's webhook URL (holds its key) |
| ``UNION_ALERT_DINGTALK_URL`` / ``UNION_ALERT_DINGTALK_SECRET`` | a DingTalk (钉钉) custom robot's webhook URL (holds its access token) and, optionally, its signing secret (加签) |
| ``UNION_ALERT_FEISHU_URL`` / ``UNION_ALERT_FEISHU_SECRET`` | a Feishu (飞书) custom bot's webhook URL and, optionally, its signing secret (签名校验) |

The outbox (``Settings.outbox_path``) is always on. A half-configured sink (a webhook
URL without a secret, an SMTP host without recipients, a user without a password, a
robot's secret without its URL) is an error, not a silent skip; so is a password that
would cross the network in clear, and a robot URL (it holds the robot's key) that would
be sent in clear to another machine (``http://`` is only for a robot on this machine).
"""

from __future__ import annotations

import ipaddress
import math
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from .sinks import (
    SMTP_DEFAULT_PORTS,
    SMTP_SECURITY,
    DingTalkSink,
    EmailSink,
    FeishuSink,
    OutboxSink,
    RobotSink,
    Sink,
    WebhookSink,
    WeComSink,
)


class SinkConfigError(ValueError):
    pass


# setting -> the environment variable that sets it: the one list of them
# (SinkSettings.from_env reads them, the Dagster resource hands the secret ones over as
# EnvVar, docs/alerts.md and the README list them)
ENV_VARS: dict[str, str] = {
    "webhook_url": "UNION_ALERT_WEBHOOK_URL",
    "webhook_secret": "UNION_ALERT_WEBHOOK_SECRET",
    "webhook_timeout_seconds": "UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS",
    "smtp_host": "UNION_SMTP_HOST",
    "smtp_port": "UNION_SMTP_PORT",
    "smtp_sender": "UNION_SMTP_SENDER",
    "smtp_recipients": "UNION_SMTP_RECIPIENTS",
    "smtp_security": "UNION_SMTP_SECURITY",
    "smtp_user": "UNION_SMTP_USER",
    "smtp_password": "UNION_SMTP_PASSWORD",
    "smtp_ca_file": "UNION_SMTP_CA_FILE",
    "wecom_url": "UNION_ALERT_WECOM_URL",
    "dingtalk_url": "UNION_ALERT_DINGTALK_URL",
    "dingtalk_secret": "UNION_ALERT_DINGTALK_SECRET",
    "feishu_url": "UNION_ALERT_FEISHU_URL",
    "feishu_secret": "UNION_ALERT_FEISHU_SECRET",
}
# The settings that are secrets: never in a run's configuration, a log or a repr. A
# robot's URL is one (the key is in it).
SECRET_SETTINGS: tuple[str, ...] = (
    "webhook_secret",
    "smtp_password",
    "wecom_url",
    "dingtalk_url",
    "dingtalk_secret",
    "feishu_url",
    "feishu_secret",
)
# the chat robots: sink name -> (its class, whether it takes a signing secret)
ROBOTS: dict[str, tuple[type[RobotSink], bool]] = {
    "wecom": (WeComSink, False),
    "dingtalk": (DingTalkSink, True),
    "feishu": (FeishuSink, True),
}
_LOOPBACK_NAMES = ("localhost",)


def _on_this_machine(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_robot_url(variable: str, url: str) -> None:
    """https://, or http:// to this machine only (the key in the URL must not cross the
    network in clear). The message names the variable, never the URL."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise SinkConfigError(f"{variable} must be a URL without spaces or control characters")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SinkConfigError(f"{variable} must be an https:// URL")
    if parts.scheme == "http" and not _on_this_machine(parts.hostname):
        raise SinkConfigError(
            f"{variable} is an http:// URL to {parts.hostname}: the robot's key would cross "
            "the network in clear (use https://)"
        )


@dataclass(frozen=True)
class SinkSettings:
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
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
    smtp_password: str = field(default="", repr=False)
    smtp_ca_file: str = ""
    wecom_url: str = field(default="", repr=False)
    dingtalk_url: str = field(default="", repr=False)
    dingtalk_secret: str = field(default="", repr=False)
    feishu_url: str = field(default="", repr=False)
    feishu_secret: str = field(default="", repr=False)

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

        def get(name: str, strip: bool = True) -> str:
            value = env.get(ENV_VARS[name], "")
            return value.strip() if strip else value

        security = get("smtp_security").lower() or "none"
        # an unknown mode keeps port 25 here; validate() rejects it
        port = get("smtp_port") or str(SMTP_DEFAULT_PORTS.get(security, 25))
        if not port.isdigit():
            raise SinkConfigError(f"{ENV_VARS['smtp_port']} must be a port number, got {port!r}")
        timeout = get("webhook_timeout_seconds")
        try:
            webhook_timeout = float(timeout) if timeout else cls.webhook_timeout_seconds
        except ValueError:
            webhook_timeout = math.nan
        if not (math.isfinite(webhook_timeout) and webhook_timeout > 0):
            raise SinkConfigError(
                f"{ENV_VARS['webhook_timeout_seconds']} must be a number of seconds above 0, got {timeout!r}"
            )
        return cls(
            webhook_timeout_seconds=webhook_timeout,
            smtp_security=security,
            smtp_user=get("smtp_user"),
            smtp_password=get("smtp_password", strip=False),
            smtp_ca_file=get("smtp_ca_file"),
            webhook_url=get("webhook_url"),
            webhook_secret=get("webhook_secret", strip=False),
            smtp_host=get("smtp_host"),
            smtp_port=int(port),
            smtp_sender=get("smtp_sender"),
            smtp_recipients=tuple(r.strip() for r in get("smtp_recipients").split(",") if r.strip()),
            wecom_url=get("wecom_url"),
            dingtalk_url=get("dingtalk_url"),
            dingtalk_secret=get("dingtalk_secret"),
            feishu_url=get("feishu_url"),
            feishu_secret=get("feishu_secret"),
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
        for robot, (_, signed) in ROBOTS.items():
            url = getattr(self, f"{robot}_url")
            if signed and getattr(self, f"{robot}_secret") and not url:
                raise SinkConfigError(
                    f"{ENV_VARS[robot + '_secret']} is set but {ENV_VARS[robot + '_url']} is not"
                )
            if url:
                _check_robot_url(ENV_VARS[f"{robot}_url"], url)

    def build(self, outbox_path: Path) -> list[Sink]:
        """The outbox, then the webhook, e-mail and chat robots that are configured."""
        self.validate()
        sinks: list[Sink] = [OutboxSink(outbox_path)]
        if self.webhook_url:
            sinks.append(
                WebhookSink(
                    self.webhook_url,
                    self.webhook_secret,
                    attempts=self.webhook_attempts,
                    backoff_seconds=self.webhook_backoff_seconds,
                    timeout_seconds=self.webhook_timeout_seconds,
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
        for robot, (kind, signed) in ROBOTS.items():
            url = getattr(self, f"{robot}_url")
            if url:
                secret = {"secret": getattr(self, f"{robot}_secret")} if signed else {}
                sinks.append(kind(url=url, **secret))
        return sinks


def sinks_from_env(outbox_path: Path, env: Mapping[str, str] | None = None) -> list[Sink]:
    return SinkSettings.from_env(env).build(outbox_path)
