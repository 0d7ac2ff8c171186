"""Where alert events go: one interface, six sinks, configured by environment.

- :class:`OutboxSink` — JSON Lines file (``Settings.outbox_path``), always on;
- :class:`WebhookSink` — HTTP POST of one event's JSON, signed
  ``X-Union-Signature: sha256=<HMAC-SHA256 hex of the body with the shared secret>``,
  retried with exponential back-off within a run and a time budget
  (``UNION_ALERT_WEBHOOK_URL``, ``UNION_ALERT_WEBHOOK_SECRET``,
  ``UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS``);
- :class:`EmailSink` — one e-mail per run listing the events in readable Chinese (a
  plain-text part and an HTML part, :mod:`pipelines.alerts.messages`), over SMTP
  (``UNION_SMTP_HOST``, ``UNION_SMTP_PORT``, ``UNION_SMTP_SENDER``,
  ``UNION_SMTP_RECIPIENTS`` comma-separated), in clear, upgraded with STARTTLS or over
  TLS from the first byte (``UNION_SMTP_SECURITY``), with a login when configured; the
  server's certificate is always verified (the system's CAs or ``UNION_SMTP_CA_FILE``);
- :class:`WeComSink`, :class:`DingTalkSink`, :class:`FeishuSink` — the group robots of
  WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书): a digest of the run's events in
  readable Chinese, a few events a message, in each robot's documented webhook body,
  signed where the robot has a signing secret (``UNION_ALERT_WECOM_URL``;
  ``UNION_ALERT_DINGTALK_URL`` / ``_SECRET``; ``UNION_ALERT_FEISHU_URL`` / ``_SECRET``).
  A robot's URL holds its key: it is a secret, never logged (only its host) nor shown.

The environment variables are declared in one place, :data:`pipelines.alerts.config.ENV_VARS`.

A sink's ``send`` takes event payloads and says, per event id it attempted, whether it
was delivered (None) or why not; the caller records that per (event, sink), so an
event that failed is sent again at a later run (after a back-off) and a delivered one
never again. Every payload carries its ``event_id`` (stable: the same change of the same
alert always has the same id), the key a receiver de-duplicates on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pipelines.jsonl import cut_torn_tail

from .messages import ChatMessage, ChatStyle, chat_messages, email_html, email_text

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]
Outcomes = dict[str, str | None]  # event_id -> None (delivered) or the error

SIGNATURE_HEADER = "X-Union-Signature"
EVENT_ID_HEADER = "X-Union-Event-Id"
USER_AGENT = "union-warehouse-alerts/1"
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


# What a failed request means for the rest of the run (see _HttpDelivery._deliver)
RETRY = "retry"  # a quick failure: try the same request again within the run, after a back-off
FAIL = "fail"  # this request failed: not again this run; go on with the next one
STOP = "stop"  # the receiver refuses: not again this run, and nothing more to it this run

# errors of the network or of HTTP itself (a connection cut, a malformed answer)
NETWORK_ERRORS = (urllib.error.URLError, OSError, http.client.HTTPException)


class _HttpDelivery:
    """The delivery loop the HTTP sinks share, over *units* (one request each: an event
    for the webhook, a digest message for a robot). A subclass has ``attempts``,
    ``backoff_seconds``, ``timeout_seconds``, ``sleep``, ``clock`` and ``budget``, and
    makes one request in :meth:`_try`.

    Within a time budget per run: once it is spent, the remaining units are not attempted
    and wait for the next run. A quick failure (a network error, a 5xx/408/429) is tried
    ``attempts`` times in all, waiting ``backoff_seconds`` × 1, 2, 4, ... between (as far
    as the budget allows); when a unit exhausts them the endpoint is taken as down and
    the remaining units wait for the next run (they are not attempted, so not counted as
    failures). A request that gets no answer within ``timeout_seconds`` is not repeated
    in the run (the receiver may still be processing it) and the next unit is sent."""

    attempts: int
    backoff_seconds: float
    timeout_seconds: float
    sleep: Callable[[float], None]
    clock: Callable[[], float]

    @property
    def budget(self) -> float:
        raise NotImplementedError

    def _try(self, unit: Any, timeout: float) -> tuple[str | None, str]:
        """One request: (None, "") when delivered, else (the error, RETRY / FAIL / STOP).
        May raise one of :data:`NETWORK_ERRORS`."""
        raise NotImplementedError

    def _describe(self, exc: BaseException) -> str:
        """A network error as recorded (``last_error``)."""
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"

    def _deliver(self, unit: Any, deadline: float) -> tuple[str | None, bool]:
        """(error or None, whether to stop: the endpoint looks down or refuses, or the
        budget is spent)."""
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
            timeout = min(self.timeout_seconds, remaining)
            try:
                failure, then = self._try(unit, timeout)
            except NETWORK_ERRORS as exc:
                if _timed_out(exc):
                    return f"timed out after {timeout:g} s", False
                failure, then = self._describe(exc), RETRY
            if failure is None:
                return None, False
            error = failure
            if then != RETRY:
                return error, then == STOP
        return error, True

    def _send_units(self, units: Sequence[tuple[Sequence[str], Any]]) -> Outcomes:
        """Send ``(event ids, unit)`` in order; the events of a unit share its outcome."""
        out: Outcomes = {}
        deadline = self.clock() + self.budget
        for event_ids, unit in units:
            if self.clock() >= deadline:
                break  # the budget is spent: the rest wait for the next run
            error, stop = self._deliver(unit, deadline)
            out.update(dict.fromkeys(event_ids, error))
            if stop:
                break
        return out


@dataclass
class WebhookSink(_HttpDelivery):
    """POSTs each event on its own, within a time budget per run (``budget_seconds``,
    by default three timeouts): once it is spent, the remaining events are not
    attempted and wait for the next run.

    On a network error or a 5xx/408/429 an event is tried ``attempts`` times in all,
    waiting ``backoff_seconds`` × 1, 2, 4, ... between (as far as the budget allows);
    when it exhausts them the endpoint is taken as down and the remaining events wait
    for the next run (they are not attempted, so not counted as failures). Another 4xx
    fails the event (not repeated in the run) and the next one is sent. A request
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
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def _try(self, unit: Any, timeout: float) -> tuple[str | None, str]:
        status = self._post(body_of(unit), unit["event_id"], timeout)
        if 200 <= status < 300:
            return None, ""
        return f"HTTP {status}", RETRY if _retriable(status) else FAIL

    def send(self, payloads: Sequence[Payload]) -> Outcomes:
        return self._send_units([([p["event_id"]], p) for p in payloads])


# --- the chat robots: WeCom, DingTalk, Feishu -------------------------------------------------

ANSWER_LIMIT = 64 * 1024  # bytes of a robot's answer read (it is a small JSON object)


def host_of(url: str) -> str:
    """What may be logged of a robot's URL: its host (and port), never the path or query
    that hold the key."""
    parts = urllib.parse.urlsplit(url)
    return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else "?"


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk's ``sign``: base64 of HMAC-SHA256 of ``"<timestamp>\\n<secret>"`` keyed with
    the secret (URL-encode it into the query)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """Feishu's ``sign``: base64 of HMAC-SHA256 keyed with ``"<timestamp>\\n<secret>"`` over
    an empty message."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(kw_only=True)
class RobotSink(_HttpDelivery):
    """A chat group's robot: the events due in a run go as a digest, at most ``batch``
    events and ``max_bytes`` of text a message and ``max_messages`` messages a run (the
    robots take about 20 messages a minute, and a group wants a digest, not a flood);
    the events of a message are delivered or not together, and those of messages not
    sent this run wait for the next one without counting as failures.

    Delivery as the webhook's (:class:`_HttpDelivery`): within ``budget_seconds`` (three
    timeouts), a network error or a 5xx/408/429 retried with back-off. A robot that
    answers with an error code (a wrong key or signature, a keyword missing, its rate
    limit) or another 4xx fails the message and ends the robot's run: the rest wait for
    the next run. Across runs a failed message's events wait out the back-off like any."""

    url: str = field(repr=False)  # holds the robot's key: a secret
    attempts: int = 4
    backoff_seconds: float = 1.0
    timeout_seconds: float = 10.0
    batch: int = 20
    max_messages: int = 10
    max_bytes: int = 4000
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    budget_seconds: float | None = None  # None: 3 × timeout_seconds
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    wall_clock: Callable[[], float] = field(default=time.time, repr=False)  # for signatures
    style: ClassVar[ChatStyle] = ChatStyle(markdown=True)
    label: ClassVar[str] = "robot"

    @property
    def budget(self) -> float:
        return self.budget_seconds if self.budget_seconds is not None else 3 * self.timeout_seconds

    @property
    def host(self) -> str:
        return host_of(self.url)

    # what differs between the robots
    def _body(self, message: ChatMessage) -> dict[str, Any]:
        raise NotImplementedError

    def _target(self) -> str:
        """The URL to POST to now (DingTalk signs in the query)."""
        return self.url

    @staticmethod
    def _code(answer: Mapping[str, Any]) -> Any:
        return answer.get("errcode")

    def _try(self, unit: Any, timeout: float) -> tuple[str | None, str]:
        body = json.dumps(self._body(unit), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(
            self._target(),
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
                status, raw = int(response.status), response.read(ANSWER_LIMIT)
        except urllib.error.HTTPError as exc:
            status, raw = int(exc.code), exc.read(ANSWER_LIMIT) if exc.fp is not None else b""
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = None
        code = self._code(answer) if isinstance(answer, Mapping) else None
        if 200 <= status < 300 and code == 0:
            return None, ""
        said = ""
        if code is not None:
            message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""  # type: ignore[union-attr]
            said = f"code {code}" + (f": {str(message)[:120]}" if message else "")
        if not 200 <= status < 300:
            return f"HTTP {status}" + (f" ({said})" if said else ""), RETRY if _retriable(status) else STOP
        return f"refused ({said or 'an answer without a result code'})", STOP

    def _describe(self, exc: BaseException) -> str:
        """The error's kind and the system's words for it ("Connection refused"), never
        its message: one about the URL (an invalid one, a redirect) quotes it, key and all."""
        reason = getattr(exc, "reason", None)
        cause = reason if isinstance(reason, OSError) else exc
        detail = cause.strerror if isinstance(cause, OSError) and cause.strerror else ""
        if not detail and isinstance(reason, str):
            detail = reason  # urllib's own words ("no host given", ...)
        return self.redact(type(exc).__name__ + (f": {detail}" if detail else ""))

    def redact(self, text: str) -> str:
        """``text`` without any part of the URL that may hold the key (an error raised
        about the URL can quote it)."""
        parts = urllib.parse.urlsplit(self.url)
        secrets = {self.url, parts.path, parts.query}
        secrets |= {v for vs in urllib.parse.parse_qs(parts.query).values() for v in vs}
        secrets |= set(parts.path.split("/"))
        for part in sorted((x for x in secrets if len(x) >= 8), key=len, reverse=True):
            text = text.replace(part, "…")
        return text

    def messages(self, payloads: Sequence[Payload]) -> list[ChatMessage]:
        return chat_messages(payloads, self.style, max_bytes=self.max_bytes, batch=self.batch)

    def send(self, payloads: Sequence[Payload]) -> Outcomes:
        if not payloads:
            return {}
        messages = self.messages(payloads)[: max(self.max_messages, 1)]
        sent = self._send_units([([p["event_id"] for p in m.payloads], m) for m in messages])
        out = {k: None if e is None else self.redact(e) for k, e in sent.items()}
        failed = {e for e in out.values() if e is not None}
        if failed:  # the host only: the URL holds the key
            log.warning("%s robot at %s: delivery failed (%s); retried at a later run",
                        self.label, self.host, "; ".join(sorted(failed)))
        return out


@dataclass(kw_only=True)
class WeComSink(RobotSink):
    """WeCom (企业微信) group robot: ``{"msgtype": "markdown", "markdown": {"content": ...}}``
    to ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...``; delivered when it
    answers ``{"errcode": 0}``. Its markdown content may be 4096 bytes at most."""

    name: str = "wecom"
    max_bytes: int = 4000
    style: ClassVar[ChatStyle] = ChatStyle(markdown=True, line_break="\n")
    label: ClassVar[str] = "WeCom"

    def _body(self, message: ChatMessage) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"content": message.text}}


@dataclass(kw_only=True)
class DingTalkSink(RobotSink):
    """DingTalk (钉钉) custom robot: ``{"msgtype": "markdown", "markdown": {"title": ...,
    "text": ...}}`` to ``https://oapi.dingtalk.com/robot/send?access_token=...``; with a
    signing secret (加签, ``SEC...``) the query also gets ``&timestamp=<ms>&sign=<sign>``
    (:func:`dingtalk_sign`, URL-encoded). Delivered when it answers ``{"errcode": 0}``."""

    secret: str = field(default="", repr=False)
    name: str = "dingtalk"
    max_bytes: int = 15000
    style: ClassVar[ChatStyle] = ChatStyle(markdown=True, line_break="\n\n")
    label: ClassVar[str] = "DingTalk"

    def _target(self) -> str:
        if not self.secret:
            return self.url
        timestamp = str(round(self.wall_clock() * 1000))
        sign = urllib.parse.quote_plus(dingtalk_sign(self.secret, timestamp))
        return f"{self.url}{'&' if '?' in self.url else '?'}timestamp={timestamp}&sign={sign}"

    def _body(self, message: ChatMessage) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.text}}


@dataclass(kw_only=True)
class FeishuSink(RobotSink):
    """Feishu (飞书) custom bot: ``{"msg_type": "text", "content": {"text": ...}}`` to
    ``https://open.feishu.cn/open-apis/bot/v2/hook/...``; with a signing secret (签名校验)
    the body also carries ``"timestamp": "<seconds>"`` and ``"sign"`` (:func:`feishu_sign`).
    Delivered when it answers ``{"code": 0}`` (older bots: ``{"StatusCode": 0}``)."""

    secret: str = field(default="", repr=False)
    name: str = "feishu"
    max_bytes: int = 15000  # the request may be 20 KB at most
    style: ClassVar[ChatStyle] = ChatStyle(markdown=False)
    label: ClassVar[str] = "Feishu"

    @staticmethod
    def _code(answer: Mapping[str, Any]) -> Any:
        return answer["code"] if "code" in answer else answer.get("StatusCode")

    def _body(self, message: ChatMessage) -> dict[str, Any]:
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": message.text}}
        if self.secret:
            timestamp = str(int(self.wall_clock()))
            body = {"timestamp": timestamp, "sign": feishu_sign(self.secret, timestamp), **body}
        return body


@dataclass
class EmailSink:
    """One e-mail per run with every due event (at most ``batch`` events a message), in
    readable Chinese (:func:`~pipelines.alerts.messages.email_text` and
    :func:`~pipelines.alerts.messages.email_html`), retried like the webhook; the events
    of a message are delivered or not together."""

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
        """multipart/alternative: the plain text first, then the same as HTML."""
        subject, text = email_text(payloads)
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(text, charset="utf-8")
        msg.add_alternative(email_html(payloads), subtype="html", charset="utf-8")
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
