"""Delivery: a signed webhook against a real HTTP server on 127.0.0.1, e-mail against a
local SMTP server; retries within a run and across runs, never a duplicate. (Damaged
state, late sinks, slow endpoints and back-off: tests/test_alerts_faults.py.)"""

from __future__ import annotations

import email
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.alerts import SinkSettings, load_rules, run_alerts, sinks_from_env
from pipelines.alerts.config import SinkConfigError
from pipelines.alerts.sinks import EmailSink, OutboxSink, Sink, WebhookSink, verify_signature
from pipelines.config import Settings

from .test_alerts_lifecycle import NOW, build, outbox, overdue_case
from .test_alerts_rules import AS_OF, CODE_A, Warehouse

SECRET = "s3cret-for-tests"
RULES = load_rules()


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


def run(settings: Settings, n: int, sinks: Sequence[Sink], now: datetime | None = None):  # type: ignore[no-untyped-def]
    """Alert run number ``n``: an hour after run ``n - 1`` unless ``now`` says when."""
    return run_alerts(
        settings,
        as_of=AS_OF,
        run_id=f"run-{n}",
        sinks=sinks,
        rules=RULES,
        now=now or NOW + timedelta(hours=n),
    )


def webhook(server: HTTPServer, attempts: int = 3, waits: list[float] | None = None) -> WebhookSink:
    return WebhookSink(
        server.url_for("/hook"),
        SECRET,
        attempts=attempts,
        backoff_seconds=0.01,
        timeout_seconds=5,
        sleep=(waits.append if waits is not None else lambda s: None),
    )


def posted(server: HTTPServer) -> list[tuple[dict[str, Any], str, str]]:
    """(json, signature header, event id header) of every request the server saw."""
    return [
        (
            json.loads(req.get_data()),
            req.headers["X-Union-Signature"],
            req.headers["X-Union-Event-Id"],
        )
        for req, _ in server.log
    ]


def two_cases(wh: Warehouse) -> None:
    overdue_case()(wh)
    wh.case(case_id="TJ001-2015-0002", workers=40, received=AS_OF - timedelta(days=2))  # W01 橙


def test_the_webhook_body_is_signed_with_hmac_sha256(
    settings: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    build(settings, overdue_case())
    report = run(settings, 1, [OutboxSink(settings.outbox_path), webhook(httpserver)])
    assert report.delivered == {"outbox": 1, "webhook": 1}
    [(req, _)] = httpserver.log
    body = req.get_data()
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert req.headers["X-Union-Signature"] == expected
    assert verify_signature(SECRET, body, expected) and not verify_signature(
        "other", body, expected
    )
    assert req.headers["Content-Type"].startswith("application/json")
    payload = json.loads(body)
    assert (
        payload["event_type"] == "opened"
        and payload["rule_code"] == "W09"
        and payload["level"] == "蓝"
    )
    assert payload["event_id"] == req.headers["X-Union-Event-Id"]
    assert payload == {
        k: v for k, v in outbox(settings)[0].items()
    }  # the same event, the same bytes' meaning


def test_a_500_then_a_200_is_one_delivery(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("busy", status=500)
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok", status=200)
    build(settings, overdue_case())
    waits: list[float] = []
    report = run(settings, 1, [webhook(httpserver, waits=waits)])
    assert report.delivered == {"webhook": 1} and report.failed == {"webhook": 0}
    assert waits == [0.01]
    (first, sig1, id1), (second, sig2, id2) = posted(httpserver)
    assert first == second and sig1 == sig2 and id1 == id2
    httpserver.expect_request("/hook").respond_with_data("ok")
    assert run(settings, 2, [webhook(httpserver)]).delivered == {}
    assert len(httpserver.log) == 2  # nothing sent again


def test_a_failure_is_retried_next_run_and_never_duplicated(
    settings: Settings, httpserver: HTTPServer
) -> None:
    build(settings, overdue_case())
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    waits: list[float] = []
    first = run(
        settings,
        1,
        [OutboxSink(settings.outbox_path), webhook(httpserver, attempts=3, waits=waits)],
    )
    assert first.delivered == {"outbox": 1, "webhook": 0} and first.still_due == {
        "outbox": 0,
        "webhook": 1,
    }
    assert waits == [0.01, 0.02] and len(httpserver.log) == 3  # exponential back-off within the run
    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_data("ok")
    second = run(settings, 2, [OutboxSink(settings.outbox_path), webhook(httpserver)])
    assert second.delivered == {"webhook": 1} and second.still_due == {"outbox": 0, "webhook": 0}
    [(payload, _, _)] = posted(httpserver)
    assert payload["run_id"] == "run-1" and payload["event_type"] == "opened"  # the original event
    third = run(settings, 3, [OutboxSink(settings.outbox_path), webhook(httpserver)])
    assert third.delivered == {} and len(httpserver.log) == 1
    assert len(outbox(settings)) == 1


def test_a_down_endpoint_stops_the_run_and_keeps_the_rest_pending(
    settings: Settings, httpserver: HTTPServer
) -> None:
    build(settings, two_cases)
    httpserver.expect_request("/hook").respond_with_data("down", status=502)
    report = run(settings, 1, [webhook(httpserver, attempts=2)])
    assert report.failed == {"webhook": 1} and report.still_due == {"webhook": 2}  # W09 and W01
    assert len(httpserver.log) == 2
    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_data("ok")
    assert run(settings, 2, [webhook(httpserver)]).delivered == {"webhook": 2}
    assert len({p["event_id"] for p, _, _ in posted(httpserver)}) == 2


def test_a_client_error_is_not_retried_within_the_run(
    settings: Settings, httpserver: HTTPServer
) -> None:
    build(settings, overdue_case())

    def reject(request: Request) -> Response:
        return Response("bad signature", status=401)

    httpserver.expect_request("/hook").respond_with_handler(reject)
    report = run(settings, 1, [webhook(httpserver, attempts=4)])
    assert report.failed == {"webhook": 1} and len(httpserver.log) == 1


def test_a_webhook_that_cannot_connect_fails_and_waits(settings: Settings) -> None:
    build(settings, overdue_case())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = WebhookSink(
        f"http://127.0.0.1:{port}/hook", SECRET, attempts=2, backoff_seconds=0, timeout_seconds=2
    )
    report = run(settings, 1, [sink])
    assert report.failed == {"webhook": 1} and report.still_due == {"webhook": 1}


# --- e-mail --------------------------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=default_policy) for e in self.envelopes]  # type: ignore[misc]


def parts(msg: email.message.EmailMessage) -> tuple[str, str]:
    """(the text/plain part, the text/html part) of a multipart/alternative message."""
    assert msg.get_content_type() == "multipart/alternative"
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_port() -> int:
    return _free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def mail(port: int, attempts: int = 2) -> EmailSink:
    return EmailSink(
        "127.0.0.1",
        port,
        "alerts@union.example",
        ["a@union.example", "b@union.example"],
        attempts=attempts,
        backoff_seconds=0,
        timeout_seconds=5,
    )


def test_one_email_per_run_lists_the_news(settings: Settings, smtp: Inbox, smtp_port: int) -> None:
    build(settings, two_cases)
    report = run(settings, 1, [mail(smtp_port)])
    assert report.delivered == {"email": 2}
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["a@union.example", "b@union.example"]
    [msg] = smtp.messages()
    assert msg["Subject"] == "[东城区总工会劳动关系预警] 2条预警变动（新预警2条）"
    body, _ = parts(msg)
    assert (
        body.count("新预警｜") == 2
        and "【橙色预警】集体劳动争议" in body
        and "TJ001-2015-0001" in body
    )
    assert run(settings, 2, [mail(smtp_port)]).delivered == {}
    assert len(smtp.envelopes) == 1
    build(settings, overdue_case(closed=True))
    run(settings, 3, [mail(smtp_port)])
    assert len(smtp.envelopes) == 2 and "解除2条" in smtp.messages()[1]["Subject"]


def test_the_email_is_readable_chinese_in_plain_text_and_html(
    settings: Settings, smtp: Inbox, smtp_port: int
) -> None:
    build(settings, two_cases)
    run(settings, 1, [mail(smtp_port)])
    [msg] = smtp.messages()
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text, rich = parts(msg)
    for body in (text, rich):
        # level, street, what happened, the numbers, where to look
        assert "【橙色预警】集体劳动争议" in body and "【蓝色预警】调解超期" in body
        assert "新预警｜东华门街道" in body and "涉及职工40人" in body
        assert "查看：" in body or "查看</td>" in body
        assert "alerts.alerts" in body and "marts.fct_dispute_cases" in body
        # no evidence dump: the credit code is evidence only, and no JSON
        assert CODE_A not in body and '"case_id"' not in body and "证据" not in body
    assert "{" not in text
    assert rich.lstrip().startswith("<!DOCTYPE html>") and "橙色预警（II级，严重）" in rich
    assert text.index("【橙色预警】") < text.index("【蓝色预警】")  # most severe first


def test_email_failing_now_is_sent_on_a_later_run(settings: Settings) -> None:
    port = _free_port()
    build(settings, overdue_case())
    first = run(settings, 1, [mail(port, attempts=1)])
    assert first.failed == {"email": 1}
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert run(settings, 2, [mail(port)]).delivered == {"email": 1}
        assert run(settings, 3, [mail(port)]).delivered == {}
    finally:
        controller.stop()
    assert len(inbox.envelopes) == 1


# --- configuration ----------------------------------------------------------------------------


def test_sinks_from_the_environment(settings: Settings) -> None:
    assert [s.name for s in sinks_from_env(settings.outbox_path, {})] == ["outbox"]
    env = {
        "UNION_ALERT_WEBHOOK_URL": "https://hooks.example/union",
        "UNION_ALERT_WEBHOOK_SECRET": "x",
        "UNION_SMTP_HOST": "mail.example",
        "UNION_SMTP_PORT": "2525",
        "UNION_SMTP_SENDER": "a@example",
        "UNION_SMTP_RECIPIENTS": " b@example, c@example ,",
    }
    outbox_sink, hook, smtp_sink = sinks_from_env(settings.outbox_path, env)
    assert isinstance(outbox_sink, OutboxSink) and outbox_sink.path == settings.outbox_path
    assert (
        isinstance(hook, WebhookSink)
        and hook.url == env["UNION_ALERT_WEBHOOK_URL"]
        and hook.secret == "x"
    )
    assert isinstance(smtp_sink, EmailSink) and smtp_sink.port == 2525
    assert list(smtp_sink.recipients) == ["b@example", "c@example"]


def test_the_webhook_timeout_from_the_environment(settings: Settings) -> None:
    env = {"UNION_ALERT_WEBHOOK_URL": "https://hooks.example/union", "UNION_ALERT_WEBHOOK_SECRET": "x"}
    [_, default] = sinks_from_env(settings.outbox_path, env)
    assert isinstance(default, WebhookSink) and (default.timeout_seconds, default.budget) == (10.0, 30.0)
    [_, hook] = sinks_from_env(settings.outbox_path, {**env, "UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS": " 2.5 "})
    assert isinstance(hook, WebhookSink) and (hook.timeout_seconds, hook.budget) == (2.5, 7.5)
    assert SinkSettings.from_env({"UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS": "4"}).webhook_timeout_seconds == 4.0


def test_every_channel_carries_the_event_id(settings: Settings, smtp: Inbox, smtp_port: int) -> None:
    build(settings, overdue_case())
    run(settings, 1, [OutboxSink(settings.outbox_path), mail(smtp_port)])
    [sent] = outbox(settings)
    [msg] = smtp.messages()
    text, rich = parts(msg)
    assert f"事件编号 {sent['event_id']}" in text and f"事件编号 {sent['event_id']}" in rich


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"UNION_ALERT_WEBHOOK_URL": "https://hooks.example"}, "UNION_ALERT_WEBHOOK_SECRET is not"),
        (
            {"UNION_ALERT_WEBHOOK_URL": "ftp://x", "UNION_ALERT_WEBHOOK_SECRET": "s"},
            "http:// or https://",
        ),
        (
            {"UNION_SMTP_HOST": "mail.example"},
            "need UNION_SMTP_HOST, UNION_SMTP_SENDER and UNION_SMTP_RECIPIENTS",
        ),
        ({"UNION_SMTP_PORT": "smtp"}, "UNION_SMTP_PORT must be a port number"),
        ({"UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS": "soon"}, "must be a number of seconds above 0"),
        ({"UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS": "0"}, "must be a number of seconds above 0"),
        ({"UNION_ALERT_WEBHOOK_TIMEOUT_SECONDS": "nan"}, "must be a number of seconds above 0"),
    ],
)
def test_a_half_configured_sink_is_an_error(
    settings: Settings, env: dict[str, str], problem: str
) -> None:
    with pytest.raises(SinkConfigError, match=problem):
        SinkSettings.from_env(env).build(settings.outbox_path)


# --- e-mail over TLS, with a login ----------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_file: str  # what the sink is told to trust
    server: ssl.SSLContext  # the server's side: its certificate for 127.0.0.1, signed by the CA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A private CA and a server certificate for 127.0.0.1 signed by it: an intranet mail
    relay's situation."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    root = tmp_path_factory.mktemp("pki")
    now = datetime.now(UTC)

    def cert(subject: str, key, issuer: str, issuer_key, ca: bool):  # type: ignore[no-untyped-def]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                              key_encipherment=False, data_encipherment=False, key_agreement=False,
                              encipher_only=False, decipher_only=False), critical=True)
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = cert("Union test CA", ca_key, "Union test CA", ca_key, ca=True)
    server_cert = cert("127.0.0.1", server_key, "Union test CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (root / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (root / "server.pem").write_bytes(server_cert.public_bytes(pem))
    (root / "server.key").write_bytes(server_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(root / "server.pem", root / "server.key")
    return Pki(str(root / "ca.pem"), server)


class Logins:
    """An aiosmtpd authenticator that accepts one user and remembers every attempt."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()
        self.attempts: list[tuple[bytes, bytes]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        self.attempts.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (self.user, self.password))


def secure_mail(port: int, security: str, ca_file: str, user: str = "", password: str = "") -> EmailSink:
    return EmailSink("127.0.0.1", port, "alerts@union.example", ["a@union.example"], attempts=1,
                     backoff_seconds=0, timeout_seconds=5, security=security, user=user, password=password,
                     ca_file=ca_file)


@pytest.fixture
def starttls_server(pki: Pki, smtp_port: int) -> Iterator[tuple[Inbox, Logins]]:
    """A relay that refuses mail before STARTTLS and logins in clear, and wants a login."""
    inbox, logins = Inbox(), Logins("union-alerts", "pw-for-tests")
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port, tls_context=pki.server,
                            require_starttls=True, authenticator=logins, auth_required=True,
                            auth_require_tls=True)
    controller.start()
    try:
        yield inbox, logins
    finally:
        controller.stop()


def test_email_goes_over_starttls_with_a_login(
    settings: Settings, pki: Pki, smtp_port: int, starttls_server: tuple[Inbox, Logins]
) -> None:
    inbox, logins = starttls_server
    build(settings, overdue_case())
    sink = secure_mail(smtp_port, "starttls", pki.ca_file, "union-alerts", "pw-for-tests")
    assert run(settings, 1, [sink]).delivered == {"email": 1}
    assert logins.attempts == [(b"union-alerts", b"pw-for-tests")]
    [msg] = inbox.messages()
    assert "1条预警变动" in msg["Subject"]
    assert "pw-for-tests" not in repr(sink)  # the password is no part of what a log prints of it


def test_a_wrong_password_is_a_failed_delivery_retried_later(
    settings: Settings, pki: Pki, smtp_port: int, starttls_server: tuple[Inbox, Logins]
) -> None:
    inbox, _ = starttls_server
    build(settings, overdue_case())
    report = run(settings, 1, [secure_mail(smtp_port, "starttls", pki.ca_file, "union-alerts", "wrong")])
    assert report.failed == {"email": 1} and report.still_due == {"email": 1} and inbox.envelopes == []
    fixed = secure_mail(smtp_port, "starttls", pki.ca_file, "union-alerts", "pw-for-tests")
    assert run(settings, 2, [fixed]).delivered == {"email": 1}


def test_a_server_certificate_nobody_vouches_for_gets_no_mail(
    settings: Settings, smtp_port: int, starttls_server: tuple[Inbox, Logins]
) -> None:
    inbox, logins = starttls_server
    build(settings, overdue_case())
    # the system's CAs do not know the test CA: the sink must refuse, not send in clear
    report = run(settings, 1, [secure_mail(smtp_port, "starttls", "", "union-alerts", "pw-for-tests")])
    assert report.failed == {"email": 1} and inbox.envelopes == [] and logins.attempts == []


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(
    settings: Settings, pki: Pki, smtp: Inbox, smtp_port: int
) -> None:
    build(settings, overdue_case())  # `smtp` is a plain server without STARTTLS
    report = run(settings, 1, [secure_mail(smtp_port, "starttls", pki.ca_file)])
    assert report.failed == {"email": 1} and smtp.envelopes == []


def test_email_goes_over_tls_from_the_first_byte(settings: Settings, pki: Pki, smtp_port: int) -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port, ssl_context=pki.server)
    controller.start()
    try:
        build(settings, overdue_case())
        assert run(settings, 1, [secure_mail(smtp_port, "tls", pki.ca_file)]).delivered == {"email": 1}
    finally:
        controller.stop()
    assert len(inbox.envelopes) == 1


def test_secure_email_settings_from_the_environment(settings: Settings, pki: Pki) -> None:
    base = {"UNION_SMTP_HOST": "mail.example", "UNION_SMTP_SENDER": "a@example", "UNION_SMTP_RECIPIENTS": "b@example"}
    ports = {}
    for security in ("none", "starttls", "tls"):
        [_, sink] = sinks_from_env(settings.outbox_path, {**base, "UNION_SMTP_SECURITY": security.upper()})
        assert isinstance(sink, EmailSink) and sink.security == security
        ports[security] = sink.port
    assert ports == {"none": 25, "starttls": 587, "tls": 465}
    [_, sink] = sinks_from_env(settings.outbox_path, {
        **base, "UNION_SMTP_SECURITY": "starttls", "UNION_SMTP_PORT": "2587", "UNION_SMTP_USER": "u",
        "UNION_SMTP_PASSWORD": "p", "UNION_SMTP_CA_FILE": pki.ca_file})
    assert isinstance(sink, EmailSink)
    assert (sink.port, sink.user, sink.password, sink.ca_file) == (2587, "u", "p", pki.ca_file)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"UNION_SMTP_SECURITY": "ssl"}, "UNION_SMTP_SECURITY must be one of none, starttls, tls"),
        ({"UNION_SMTP_USER": "u"}, "UNION_SMTP_USER and UNION_SMTP_PASSWORD go together"),
        ({"UNION_SMTP_USER": "u", "UNION_SMTP_PASSWORD": "p"}, "would cross the network in clear"),
        ({"UNION_SMTP_SECURITY": "tls", "UNION_SMTP_CA_FILE": "/nonexistent/ca.pem"}, "not a file"),
    ],
)
def test_unsafe_or_incomplete_email_security_is_an_error(
    settings: Settings, env: dict[str, str], problem: str
) -> None:
    base = {"UNION_SMTP_HOST": "mail.example", "UNION_SMTP_SENDER": "a@example", "UNION_SMTP_RECIPIENTS": "b@example"}
    with pytest.raises(SinkConfigError, match=problem):
        SinkSettings.from_env({**base, **env}).build(settings.outbox_path)


@pytest.mark.parametrize("torn", [b'{"event_id": "aa", "mess', b"{", b'{"event_id": "bb"}'])
def test_a_torn_outbox_line_is_cut_before_the_next_event(tmp_path, torn: bytes) -> None:
    """A write torn by a crash or a full disk leaves a last line without its newline;
    the next event must not be glued to it (a reader would lose both)."""
    path = tmp_path / "outbox.jsonl"
    whole = b'{"event_id": "e1"}\n{"event_id": "e2"}\n'
    path.write_bytes(whole + torn)
    sink = OutboxSink(path)
    sink.heal()
    assert path.read_bytes() == whole
    sink.send([{"event_id": "e3", "message": "x"}])
    lines = path.read_bytes().splitlines()
    assert [json.loads(x)["event_id"] for x in lines] == ["e1", "e2", "e3"]
    # nothing to cut on a whole file, nor on a file that was never written
    sink.heal()
    assert len(path.read_bytes().splitlines()) == 3
    OutboxSink(tmp_path / "absent.jsonl").heal()
    assert not (tmp_path / "absent.jsonl").exists()


def test_sink_settings_as_configuration_and_back() -> None:
    """What a Dagster resource declares and holds of the sink settings (config_fields,
    to_config) comes back whole (from_config); the recipients travel as one string."""
    s = SinkSettings(webhook_url="https://h/x", webhook_secret="k", smtp_host="mail", smtp_sender="a@b",
                     smtp_recipients=("c@d", "e@f"), smtp_port=587, smtp_security="starttls")
    config = s.to_config()
    declared = SinkSettings.config_fields()
    assert list(config) == list(declared)
    assert all(isinstance(config[name], kind) for name, (kind, _) in declared.items())
    assert config["smtp_recipients"] == "c@d,e@f"
    assert SinkSettings.from_config(config) == s
    assert SinkSettings.from_config({n: d for n, (_, d) in declared.items()}) == SinkSettings()
