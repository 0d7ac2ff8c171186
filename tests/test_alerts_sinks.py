"""Delivery: a signed webhook against a real HTTP server on 127.0.0.1, e-mail against a
local SMTP server; retries within a run and across runs, never a duplicate."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.alerts import SinkSettings, load_rules, run_alerts, sinks_from_env
from pipelines.alerts.config import SinkConfigError
from pipelines.alerts.sinks import EmailSink, OutboxSink, Sink, WebhookSink, verify_signature
from pipelines.config import Settings

from .test_alerts_lifecycle import NOW, build, outbox, overdue_case
from .test_alerts_rules import AS_OF, Warehouse

SECRET = "s3cret-for-tests"
RULES = load_rules()


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


def run(settings: Settings, n: int, sinks: list[Sink]):  # type: ignore[no-untyped-def]
    return run_alerts(
        settings,
        as_of=AS_OF,
        run_id=f"run-{n}",
        sinks=sinks,
        rules=RULES,
        now=NOW + timedelta(hours=n),
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
    body = msg.get_content()
    assert (
        body.count("[新预警]") == 2
        and "【橙色预警】集体劳动争议" in body
        and "TJ001-2015-0001" in body
    )
    assert run(settings, 2, [mail(smtp_port)]).delivered == {}
    assert len(smtp.envelopes) == 1
    build(settings, overdue_case(closed=True))
    run(settings, 3, [mail(smtp_port)])
    assert len(smtp.envelopes) == 2 and "解除2条" in smtp.messages()[1]["Subject"]


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
    ],
)
def test_a_half_configured_sink_is_an_error(
    settings: Settings, env: dict[str, str], problem: str
) -> None:
    with pytest.raises(SinkConfigError, match=problem):
        SinkSettings.from_env(env).build(settings.outbox_path)
