"""The chat robots (WeCom 企业微信, DingTalk 钉钉, Feishu 飞书) against a real HTTP server on
127.0.0.1: each gets its documented webhook body, signed where it has a secret (the
signature recomputed here), in readable Chinese with the level and the street and no
personal data; a robot that refuses (an error code, a 500) is a failed delivery, retried
at a later run and never sent again once delivered. The readable text itself
(e-mail and chat): :mod:`pipelines.alerts.messages`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import socket
import time
import urllib.parse
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from pipelines.alerts import SinkSettings, sinks_from_env
from pipelines.alerts.config import ENV_VARS, SECRET_SETTINGS, SinkConfigError
from pipelines.alerts.messages import ChatStyle, chat_messages, email_html, email_text
from pipelines.alerts.sinks import DingTalkSink, FeishuSink, OutboxSink, RobotSink, WeComSink
from pipelines.config import Settings

from .test_alerts_lifecycle import build, outbox, overdue_case
from .test_alerts_rules import AS_OF, CODE_A, Warehouse
from .test_alerts_sinks import run, two_cases

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"  # what a robot's URL holds: a secret
SIGNING = "SEC-signing-secret-for-tests"
STREET = "东华门街道"  # S1, where the test warehouse's cases are
EVENT_ID = re.compile(r"事件编号 ([0-9a-f]{32})")


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


def wecom(server: HTTPServer, **kw: Any) -> WeComSink:
    return WeComSink(url=server.url_for("/cgi-bin/webhook/send") + f"?key={KEY}", **fast(kw))


def dingtalk(server: HTTPServer, secret: str = SIGNING, **kw: Any) -> DingTalkSink:
    return DingTalkSink(url=server.url_for("/robot/send") + f"?access_token={KEY}", secret=secret, **fast(kw))


def feishu(server: HTTPServer, secret: str = SIGNING, **kw: Any) -> FeishuSink:
    return FeishuSink(url=server.url_for(f"/open-apis/bot/v2/hook/{KEY}"), secret=secret, **fast(kw))


def fast(kw: dict[str, Any]) -> dict[str, Any]:
    return {"backoff_seconds": 0.01, "timeout_seconds": 5, "sleep": lambda s: None, **kw}


OK = {
    "wecom": {"errcode": 0, "errmsg": "ok"},
    "dingtalk": {"errcode": 0, "errmsg": "ok"},
    "feishu": {"code": 0, "msg": "success", "data": {}},
}
REFUSED = {
    "wecom": {"errcode": 93000, "errmsg": "invalid webhook url"},
    "dingtalk": {"errcode": 310000, "errmsg": "sign not match"},
    "feishu": {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"},
}
ROBOTS: dict[str, Callable[..., RobotSink]] = {"wecom": wecom, "dingtalk": dingtalk, "feishu": feishu}


def bodies(server: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(req.get_data()) for req, _ in server.log]


def text_of(name: str, body: dict[str, Any]) -> str:
    """The human-readable text of a robot's message."""
    if name == "wecom":
        return body["markdown"]["content"]
    if name == "dingtalk":
        return body["markdown"]["text"]
    return body["content"]["text"]


def assert_readable(text: str) -> None:
    """The level, the street, what happened, the numbers, where to look; no evidence dump."""
    assert "【橙色预警】集体劳动争议" in text and "【蓝色预警】调解超期" in text
    assert STREET in text and "新预警" in text
    assert "涉及职工40人" in text and "查看：" in text and "alerts.alerts" in text
    assert CODE_A not in text  # the employer's credit code is evidence only: not dumped
    assert '"case_id"' not in text and "{" not in text


# --- each robot's documented body --------------------------------------------------------------


def test_wecom_gets_a_markdown_message(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/cgi-bin/webhook/send", method="POST").respond_with_json(OK["wecom"])
    build(settings, two_cases)
    report = run(settings, 1, [OutboxSink(settings.outbox_path), wecom(httpserver)])
    assert report.delivered == {"outbox": 2, "wecom": 2}
    [(req, _)] = httpserver.log  # one message for the run's two events
    assert req.args.to_dict() == {"key": KEY}
    assert req.headers["Content-Type"].startswith("application/json")
    body = json.loads(req.get_data())
    assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"content"}
    content = body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert_readable(content)
    assert content.index("【橙色预警】") < content.index("【蓝色预警】")  # most severe first
    assert sorted(EVENT_ID.findall(content)) == sorted(m["event_id"] for m in outbox(settings))


def test_dingtalk_gets_markdown_signed_in_the_query(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robot/send", method="POST").respond_with_json(OK["dingtalk"])
    build(settings, two_cases)
    before = time.time()
    assert run(settings, 1, [dingtalk(httpserver)]).delivered == {"dingtalk": 2}
    [(req, _)] = httpserver.log
    query = req.args.to_dict()
    assert set(query) == {"access_token", "timestamp", "sign"} and query["access_token"] == KEY
    timestamp = query["timestamp"]
    assert before * 1000 - 1000 <= int(timestamp) <= time.time() * 1000 + 1000  # milliseconds
    expected = base64.b64encode(
        hmac.new(SIGNING.encode(), f"{timestamp}\n{SIGNING}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == expected
    assert f"sign={urllib.parse.quote_plus(expected)}" in req.query_string.decode()  # URL-encoded
    body = json.loads(req.get_data())
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert "预警" in body["markdown"]["title"]  # DingTalk shows it in the notification
    assert_readable(body["markdown"]["text"])


@pytest.mark.parametrize("answer", [OK["feishu"], {"StatusCode": 0, "StatusMessage": "success"}])
def test_feishu_gets_text_signed_in_the_body(
    settings: Settings, httpserver: HTTPServer, answer: dict[str, Any]
) -> None:
    httpserver.expect_request(f"/open-apis/bot/v2/hook/{KEY}", method="POST").respond_with_json(answer)
    build(settings, two_cases)
    before = time.time()
    assert run(settings, 1, [feishu(httpserver)]).delivered == {"feishu": 2}
    [body] = bodies(httpserver)
    assert set(body) == {"timestamp", "sign", "msg_type", "content"} and body["msg_type"] == "text"
    timestamp = body["timestamp"]
    assert isinstance(timestamp, str) and before - 1 <= int(timestamp) <= time.time() + 1  # seconds
    expected = base64.b64encode(
        hmac.new(f"{timestamp}\n{SIGNING}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert body["sign"] == expected
    assert set(body["content"]) == {"text"}
    text = body["content"]["text"]
    assert_readable(text)
    assert "**" not in text  # plain text: no markdown


def test_unsigned_robots_send_no_signature(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robot/send").respond_with_json(OK["dingtalk"])
    httpserver.expect_request(f"/open-apis/bot/v2/hook/{KEY}").respond_with_json(OK["feishu"])
    build(settings, overdue_case())
    report = run(settings, 1, [dingtalk(httpserver, secret=""), feishu(httpserver, secret="")])
    assert report.delivered == {"dingtalk": 1, "feishu": 1}
    for req, _ in httpserver.log:
        assert "sign" not in req.args and "sign" not in json.loads(req.get_data())
    assert {tuple(sorted(req.args)) for req, _ in httpserver.log} == {("access_token",), ()}


# --- refused, retried at a later run, never twice ------------------------------------------------


@pytest.mark.parametrize("robot", list(ROBOTS))
def test_an_error_code_is_a_failed_delivery_retried_at_a_later_run(
    settings: Settings, httpserver: HTTPServer, robot: str
) -> None:
    build(settings, two_cases)
    httpserver.expect_request(re.compile(".*"), method="POST").respond_with_json(REFUSED[robot])
    first = run(settings, 1, [OutboxSink(settings.outbox_path), ROBOTS[robot](httpserver, attempts=3)])
    assert first.delivered == {"outbox": 2, robot: 0} and first.failed == {"outbox": 0, robot: 2}
    assert first.still_due == {"outbox": 0, robot: 2}
    assert len(httpserver.log) == 1  # an answer, not a network fault: not repeated within the run
    httpserver.clear()
    httpserver.expect_request(re.compile(".*"), method="POST").respond_with_json(OK[robot])
    second = run(settings, 2, [OutboxSink(settings.outbox_path), ROBOTS[robot](httpserver)])
    assert second.delivered == {robot: 2} and second.still_due == {"outbox": 0, robot: 0}
    [body] = bodies(httpserver)
    assert sorted(EVENT_ID.findall(text_of(robot, body))) == sorted(m["event_id"] for m in outbox(settings))
    third = run(settings, 3, [OutboxSink(settings.outbox_path), ROBOTS[robot](httpserver)])
    assert third.delivered == {} and len(httpserver.log) == 1  # delivered: never sent again


@pytest.mark.parametrize("robot", list(ROBOTS))
def test_a_500_is_retried_within_the_run_then_at_a_later_run(
    settings: Settings, httpserver: HTTPServer, robot: str
) -> None:
    build(settings, overdue_case())
    httpserver.expect_request(re.compile(".*"), method="POST").respond_with_data("busy", status=500)
    waits: list[float] = []
    first = run(settings, 1, [ROBOTS[robot](httpserver, attempts=3, sleep=waits.append)])
    assert first.failed == {robot: 1} and first.still_due == {robot: 1}
    assert len(httpserver.log) == 3 and waits == [0.01, 0.02]  # back-off within the run
    httpserver.clear()
    httpserver.expect_request(re.compile(".*"), method="POST").respond_with_json(OK[robot])
    assert run(settings, 2, [ROBOTS[robot](httpserver)]).delivered == {robot: 1}
    assert run(settings, 3, [ROBOTS[robot](httpserver)]).delivered == {}
    assert len(httpserver.log) == 1


def test_a_500_then_a_200_is_one_delivery(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/cgi-bin/webhook/send").respond_with_data("busy", status=502)
    httpserver.expect_oneshot_request("/cgi-bin/webhook/send").respond_with_json(OK["wecom"])
    build(settings, overdue_case())
    report = run(settings, 1, [wecom(httpserver)])
    assert report.delivered == {"wecom": 1} and report.failed == {"wecom": 0}
    first, second = bodies(httpserver)
    assert first == second


def test_an_answer_without_a_result_code_is_not_a_delivery(
    settings: Settings, httpserver: HTTPServer
) -> None:
    """A URL that points at something else than a robot (a proxy's page) answers 200 but
    delivers nothing."""
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_data("<html>welcome</html>")
    build(settings, overdue_case())
    report = run(settings, 1, [wecom(httpserver)])
    assert report.failed == {"wecom": 1}


def test_a_failing_robot_is_logged_by_host_never_by_its_key(
    settings: Settings, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json(REFUSED["wecom"])
    build(settings, overdue_case())
    caplog.set_level(logging.INFO)
    sink = wecom(httpserver)
    run(settings, 1, [sink])
    # everything logged on the sending side (the test server's own access log aside)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")
    host = urllib.parse.urlsplit(httpserver.url_for("/")).netloc  # as the robot's URL names it
    assert host in logged and "93000" in logged
    assert KEY not in logged and KEY not in repr(sink)
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        [(error,)] = con.execute("select last_error from alert_deliveries where sink = 'wecom'").fetchall()
    assert "93000" in error and KEY not in error


def test_an_error_about_the_url_never_quotes_its_key(httpserver: HTTPServer) -> None:
    sink = WeComSink(url=httpserver.url_for("/cgi-bin/webhook/send") + f"?key={KEY}\x7f", **fast({"attempts": 1}))
    [error] = sink.send([PAYLOAD]).values()
    assert error is not None and "InvalidURL" in error and KEY not in error
    assert httpserver.log == []


def test_a_robot_that_cannot_be_reached_fails_and_waits(settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    build(settings, overdue_case())
    sink = FeishuSink(url=f"http://127.0.0.1:{port}/open-apis/bot/v2/hook/{KEY}", **fast({"attempts": 2}))
    report = run(settings, 1, [sink])
    assert report.failed == {"feishu": 1} and report.still_due == {"feishu": 1}
    with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
        [(error,)] = con.execute("select last_error from alert_deliveries where sink = 'feishu'").fetchall()
    assert error == "URLError: Connection refused"


# --- a digest, a few events a message ----------------------------------------------------------


def five_cases(wh: Warehouse) -> None:
    for i in range(1, 6):
        wh.case(case_id=f"TJ001-2015-{i:04d}", workers=4, received=AS_OF - timedelta(days=40), status="调解中")


def test_a_big_run_goes_out_in_a_few_messages_a_run(settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json(OK["wecom"])
    build(settings, five_cases)  # five W09 alerts
    first = run(settings, 1, [wecom(httpserver, batch=2, max_messages=2)])
    assert first.delivered == {"wecom": 4} and first.failed == {"wecom": 0}  # the fifth waits, not failed
    assert first.still_due == {"wecom": 1}
    texts = [text_of("wecom", b) for b in bodies(httpserver)]
    assert [len(EVENT_ID.findall(t)) for t in texts] == [2, 2]
    assert "（第1/3部分）" in texts[0] and "（第2/3部分）" in texts[1]
    second = run(settings, 2, [wecom(httpserver, batch=2, max_messages=2)])
    assert second.delivered == {"wecom": 1} and second.still_due == {"wecom": 0}
    ids = [i for b in bodies(httpserver) for i in EVENT_ID.findall(text_of("wecom", b))]
    assert len(ids) == len(set(ids)) == 5


@pytest.mark.parametrize("style", [ChatStyle(markdown=True), ChatStyle(markdown=True, line_break="\n\n"), ChatStyle(markdown=False)])
def test_messages_stay_under_the_robots_size_limit(style: ChatStyle) -> None:
    payloads = [dict(PAYLOAD, event_id=f"{i:032x}", message=PAYLOAD["message"] + "很长" * 300) for i in range(40)]
    messages = chat_messages(payloads, style, max_bytes=4000, batch=20)
    assert all(len(m.text.encode("utf-8")) <= 4000 for m in messages)
    assert sorted(p["event_id"] for m in messages for p in m.payloads) == sorted(p["event_id"] for p in payloads)
    assert all(1 <= len(m.payloads) <= 20 for m in messages)


# --- no personal data -----------------------------------------------------------------------------

PERSONAL = ("张三", "110101199001011234", "13800138000", "zhangsan@example.com")
PAYLOAD: dict[str, Any] = {
    "event_id": "9b1e" + "0" * 28,
    "event_type": "escalated",
    "alert_id": "W01-3f0c1234abcd5678",
    "rule_code": "W01",
    "rule_name": "集体劳动争议",
    "rule_kind": "labour",
    "level": "橙",
    "previous_level": "黄",
    "area_code": "110101008",
    "area_name": "建国门街道",
    "entity_key": "case:110101008:TJ008-2015-0025",
    "window": "",
    "as_of": "2015-12-31",
    "run_id": "run-1",
    "occurred_at": "2016-01-01T02:00:00Z",
    "message": "【橙色预警】集体劳动争议：建国门街道北京甲公司劳动争议案件TJ008-2015-0025涉及职工36人（解除劳动合同，调解中）",
    # whatever the evidence holds, only its numbers are shown
    "evidence": {
        "case_id": "TJ008-2015-0025",
        "workers_involved": 36,
        "amount_claimed_yuan": 120000.5,
        "employer_name": PERSONAL[0],
        "id_number": PERSONAL[1],
        "phone": PERSONAL[2],
        "note": PERSONAL[3],
        "credit_code": CODE_A,
    },
}


def test_no_message_carries_the_evidence_beyond_its_numbers() -> None:
    subject, text = email_text([PAYLOAD])
    rendered = [subject, text, email_html([PAYLOAD])] + [
        m.text for style in (ChatStyle(True), ChatStyle(True, "\n\n"), ChatStyle(False))
        for m in chat_messages([PAYLOAD], style, max_bytes=4000, batch=20)
    ]
    for out in rendered[1:]:
        assert "橙色预警" in out and "建国门街道" in out and "升级（黄→橙）" in out
        assert "涉及职工36人" in out and "申请金额120,000.50元" in out
    for out in rendered:
        assert not any(value in out for value in PERSONAL) and CODE_A not in out


# --- configuration -------------------------------------------------------------------------------

ROBOT_ENV = {
    "UNION_ALERT_WECOM_URL": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}",
    "UNION_ALERT_DINGTALK_URL": f"https://oapi.dingtalk.com/robot/send?access_token={KEY}",
    "UNION_ALERT_DINGTALK_SECRET": SIGNING,
    "UNION_ALERT_FEISHU_URL": f"https://open.feishu.cn/open-apis/bot/v2/hook/{KEY}",
    "UNION_ALERT_FEISHU_SECRET": " " + SIGNING + "\n",
}


def test_robots_from_the_environment(settings: Settings) -> None:
    outbox_sink, wc, dt, fs = sinks_from_env(settings.outbox_path, ROBOT_ENV)
    assert isinstance(outbox_sink, OutboxSink)
    assert isinstance(wc, WeComSink) and wc.url == ROBOT_ENV["UNION_ALERT_WECOM_URL"]
    assert isinstance(dt, DingTalkSink) and (dt.url, dt.secret) == (ROBOT_ENV["UNION_ALERT_DINGTALK_URL"], SIGNING)
    assert isinstance(fs, FeishuSink) and fs.secret == SIGNING  # stripped
    assert [s.name for s in (wc, dt, fs)] == ["wecom", "dingtalk", "feishu"]
    assert all(KEY not in repr(s) and SIGNING not in repr(s) for s in (wc, dt, fs))
    assert KEY not in repr(SinkSettings.from_env(ROBOT_ENV))
    unsigned = {k: v for k, v in ROBOT_ENV.items() if not k.endswith("_SECRET")}
    _, _, dt, fs = sinks_from_env(settings.outbox_path, unsigned)
    assert isinstance(dt, DingTalkSink) and isinstance(fs, FeishuSink) and dt.secret == fs.secret == ""


def test_every_robot_variable_is_declared_once_and_the_urls_are_secrets() -> None:
    robot_vars = {v for v in ENV_VARS.values() if v.startswith(("UNION_ALERT_WECOM", "UNION_ALERT_DINGTALK", "UNION_ALERT_FEISHU"))}
    assert robot_vars == set(ROBOT_ENV)
    assert {ENV_VARS[s] for s in SECRET_SETTINGS} >= robot_vars


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"UNION_ALERT_DINGTALK_SECRET": "SEC1"}, "UNION_ALERT_DINGTALK_SECRET is set but UNION_ALERT_DINGTALK_URL is not"),
        ({"UNION_ALERT_FEISHU_SECRET": "x"}, "UNION_ALERT_FEISHU_SECRET is set but UNION_ALERT_FEISHU_URL is not"),
        ({"UNION_ALERT_WECOM_URL": f"ftp://qyapi.weixin.qq.com/send?key={KEY}"}, "UNION_ALERT_WECOM_URL must be an https:// URL"),
        ({"UNION_ALERT_WECOM_URL": KEY}, "UNION_ALERT_WECOM_URL must be an https:// URL"),
        ({"UNION_ALERT_WECOM_URL": f"https://qyapi.weixin.qq.com/send?key={KEY} x"}, "without spaces or control characters"),
        ({"UNION_ALERT_FEISHU_URL": f"http://open.feishu.cn/open-apis/bot/v2/hook/{KEY}"}, "would cross the network in clear"),
    ],
)
def test_a_half_configured_or_unsafe_robot_is_an_error(
    settings: Settings, env: dict[str, str], problem: str
) -> None:
    with pytest.raises(SinkConfigError, match=re.escape(problem)) as caught:
        SinkSettings.from_env(env).build(settings.outbox_path)
    assert KEY not in str(caught.value)


def test_robot_urls_reach_the_sinks_but_never_the_run_config(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from pipelines.orchestration.alerts import AlertSinks

    for var, value in ROBOT_ENV.items():
        monkeypatch.setenv(var, value)
    sinks = AlertSinks.from_env()
    for name in ("wecom_url", "dingtalk_url", "dingtalk_secret", "feishu_url", "feishu_secret"):
        assert isinstance(getattr(sinks, name), dg.EnvVar)
    assert KEY not in repr(sinks) and SIGNING not in repr(sinks)
    [_, wc, dt, fs] = sinks.process_config_and_initialize().build(settings)
    assert isinstance(wc, WeComSink) and wc.url == ROBOT_ENV["UNION_ALERT_WECOM_URL"]
    assert isinstance(dt, DingTalkSink) and dt.secret == SIGNING
    assert isinstance(fs, FeishuSink) and fs.url.endswith(KEY)


@pytest.mark.parametrize("recorded", ["2016-01-01T02:00:00Z", "2016-01-01T02:00:00+00:00",
                                      "2016-01-01T10:00:00+08:00", "2016-01-01T02:00:00"])
def test_the_message_says_when_in_beijing_time_whatever_offset_the_event_carries(recorded: str) -> None:
    from pipelines.alerts.messages import beijing_time

    assert beijing_time(recorded) == "2016-01-01 10:00"
