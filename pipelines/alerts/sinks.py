"""Where alert events go: one interface, three sinks, configured by environment.

- :class:`OutboxSink` — JSON Lines file (``Settings.outbox_path``), always on;
- :class:`WebhookSink` — HTTP POST of one event's JSON, signed
  ``X-Union-Signature: sha256=<HMAC-SHA256 hex of the body with the shared secret>``,
  retried with exponential back-off within a run and a time budget
  (``UNION_ALERT_WEBHOOK_URL``, ``UNION_ALERT_WEBHOOK_SECRET``,
  ``UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS``);
- :class:`EmailSink` — one plain-text e-mail per run listing the events, over SMTP
  (``UNION_SMTP_HOST``, ``UNION_SMTP_PORT``, ``UNION_SMTP_SENDER``,
  ``UNION_SMTP_RECIPIENTS`` comma-separated), in clear, upgraded with STARTTLS or over
  TLS from the first byte (``UNION_SMTP_SECURITY``), with a login when configured; the
  server's certificate is always verified (the system's CAs or ``UNION_SMTP_CA_FILE``).

A sink's ``send`` takes event payloads and says, per event id it attempted, whether it
was delivered (None) or why not; the caller records that per (event, sink), so an
event that failed is sent again at a later run (after a back-off) and a delivered one
never again. Every payload carries its ``event_id`` (stable: the same change of the same
alert always has the same id), the key a receiver de-duplicates on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from pipelines.jsonl import cut_torn_tail

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]
Outcomes = dict[str, str | None]  # event_id -> None (delivered) or the error

SIGNATURE_HEADER = "X-Union-Signature"
EVENT_ID_HEADER = "X-Union-Event-Id"
EVENT_LABELS = {"opened": "新预警", "escalated": "升级", "reopened": "再次触发", "resolved": "解除"}
# SMTP security modes (in clear; upgraded with STARTTLS; TLS from the first byte) and the
# port each usually listens on
SMTP_DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
SMTP_SECURITY = tuple(SMTP_DEFAULT_PORTS)


class Sink(Protocol):
    name: str

    def send(self, payloads: Sequence[Payload]) -> Outcomes: ...


def body_of(payload: Payload) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON with sorted keys."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def signature(secret: str, body: bytes) -> str:
    """The ``X-Union-Signature`` header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute over the raw body, compare in constant time."""
    return hmac.compare_digest(signature(secret, body), header)


def heal_outbox(path: Path) -> int:
    """Cut a torn last line of the outbox (:func:`pipelines.jsonl.cut_torn_tail`): the
    events of a torn write were not recorded as delivered, so they are appended again,
    whole. Returns the bytes cut."""
    if not path.exists():
        return 0
    with path.open("r+b") as fh:
        cut = cut_torn_tail(fh)
        if cut:
            fh.flush()
            os.fsync(fh.fileno())
    if cut:
        log.warning("alert outbox %s ended in a torn line: %d byte(s) cut", path, cut)
    return cut


@dataclass
class OutboxSink:
    """Appends one JSON object a line; the file is the default, always-on channel."""

    path: Path
    name: str = "outbox"

    def heal(self) -> None:
        """Called before every delivery round, news or not: a torn last line is cut."""
        heal_outbox(self.path)

    def send(self, payloads: Sequence[Payload]) -> Outcomes:
        if not payloads:
            return {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        heal_outbox(self.path)
        with self.path.open("ab") as fh:
            for p in payloads:
                fh.write(body_of(p) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        return {p["event_id"]: None for p in payloads}


def _retriable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def _timed_out(exc: BaseException) -> bool:
    """A request that got no answer in time (the server may still be working on it)."""
    return isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError)


@dataclass
class WebhookSink:
    """POSTs each event on its own, within a time budget per run (``budget_seconds``,
    by default three timeouts): once it is spent, the remaining events are not
    attempted and wait for the next run.

    On a network error or a 5xx/408/429 an event is tried ``attempts`` times in all,
    waiting ``backoff_seconds`` × 1, 2, 4, ... between (as far as the budget allows);
    when it exhausts them the endpoint is taken as down and the remaining events wait
    for the next run (they are not attempted, so not counted as failures). A request
    that gets no answer within ``timeout_seconds`` is not repeated in the run (the
    receiver may still be processing it) and the next event is sent: each event is
    POSTed at most once per run by a slow endpoint. Across runs a failed event waits
    out a growing back-off (the caller's :meth:`AlertStore.record_attempts`)."""

    url: str
    secret: str
    attempts: int = 4
    backoff_seconds: float = 1.0
    timeout_seconds: float = 10.0
    name: str = "webhook"
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    budget_seconds: float | None = None  # None: 3 × timeout_seconds
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @property
    def budget(self) -> float:
        return self.budget_seconds if self.budget_seconds is not None else 3 * self.timeout_seconds

    def _post(self, body: bytes, event_id: str, timeout: float) -> int:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                SIGNATURE_HEADER: signature(self.secret, body),
                EVENT_ID_HEADER: event_id,
                "User-Agent": "union-warehouse-alerts/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def _deliver(self, payload: Payload, deadline: float) -> tuple[str | None, bool]:
        """(error or None, whether to stop: the endpoint looks down or the budget is spent)."""
        body = body_of(payload)
        error = "not attempted"
        for attempt in range(max(self.attempts, 1)):
            if attempt:
                wait = self.backoff_seconds * 2 ** (attempt - 1)
                if self.clock() + wait >= deadline:
                    return error, True
                self.sleep(wait)
            remaining = deadline - self.clock()
            if remaining <= 0:
                return error, True
            try:
                status = self._post(body, payload["event_id"], min(self.timeout_seconds, remaining))
            except (urllib.error.URLError, OSError) as exc:
                if _timed_out(exc):
                    return f"timed out after {min(self.timeout_seconds, remaining):g} s", False
                error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
                continue
            if 200 <= status < 300:
                return None, False
            error = f"HTTP {status}"
            if not _retriable(status):
                return error, False
        return error, True

    def send(self, payloads: Sequence[Payload]) -> Outcomes:
        out: Outcomes = {}
        deadline = self.clock() + self.budget
        for p in payloads:
            if self.clock() >= deadline:
                break  # the budget is spent: the rest wait for the next run
            error, stop = self._deliver(p, deadline)
            out[p["event_id"]] = error
            if stop:
                break
        return out


def email_text(payloads: Sequence[Payload]) -> tuple[str, str]:
    """(subject, body) of the e-mail listing ``payloads``."""
    counts = {
        label: sum(p["event_type"] == kind for p in payloads)
        for kind, label in EVENT_LABELS.items()
    }
    summary = "，".join(f"{label}{n}条" for label, n in counts.items() if n)
    subject = f"[东城区总工会劳动关系预警] {len(payloads)}条预警变动（{summary}）"
    lines = [f"截至{payloads[0]['as_of']}，本次运行（{payloads[0]['run_id']}）的预警变动：", ""]
    for p in payloads:
        lines.append(f"[{EVENT_LABELS.get(p['event_type'], p['event_type'])}] {p['message']}")
        lines.append(
            f"    预警编号 {p['alert_id']} · 事件编号 {p['event_id']} · 规则 {p['rule_code']} · "
            f"级别 {p['level']} · "
            f"区域 {p['area_name']}（{p['area_code']}）"
        )
        lines.append(f"    证据 {json.dumps(p['evidence'], ensure_ascii=False, sort_keys=True)}")
    lines += ["", "本邮件由东城区总工会数据平台自动发送；预警历史见数据仓库 alerts.alert_events。"]
    return subject, "\n".join(lines) + "\n"


@dataclass
class EmailSink:
    """One e-mail per run with every due event (at most ``batch`` events a message),
    retried like the webhook; the events of a message are delivered or not together."""

    host: str
    port: int
    sender: str
    recipients: Sequence[str]
    attempts: int = 3
    backoff_seconds: float = 1.0
    timeout_seconds: float = 30.0
    batch: int = 200
    name: str = "email"
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    security: str = "none"  # one of SMTP_SECURITY
    user: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""  # trust this CA bundle instead of the system's

    def _connect(self) -> smtplib.SMTP:
        if self.security == "none":
            return smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds)
        context = ssl.create_default_context(cafile=self.ca_file or None)  # verifies the host name too
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_seconds, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds)
        try:
            smtp.starttls(context=context)  # raises if the server does not offer it: never falls back to clear
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _message(self, payloads: Sequence[Payload]) -> EmailMessage:
        subject, text = email_text(payloads)
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(text, charset="utf-8")
        return msg

    def _deliver(self, msg: EmailMessage) -> str | None:
        error = "not attempted"
        for attempt in range(max(self.attempts, 1)):
            if attempt:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                with self._connect() as smtp:
                    if self.user:
                        smtp.login(self.user, self.password)
                    smtp.send_message(msg, from_addr=self.sender, to_addrs=list(self.recipients))
                return None
            except (smtplib.SMTPException, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                if _timed_out(exc):
                    break  # a server that does not answer in time is not waited for again this run
        return error

    def send(self, payloads: Sequence[Payload]) -> Outcomes:
        out: Outcomes = {}
        for i in range(0, len(payloads), self.batch):
            chunk = payloads[i : i + self.batch]
            error = self._deliver(self._message(chunk))
            out.update({p["event_id"]: error for p in chunk})
            if error is not None:
                break
        return out
