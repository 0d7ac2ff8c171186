"""Alert events as text for a person: the e-mail (plain text and HTML) and the chat robots'
messages (WeCom / DingTalk markdown, Feishu text).

Each event reads: what happened to the alert (新预警, 升级（黄→橙）, 解除, ...) and where
(the street, or 东城区 for a district-wide alert); the alert's own one-line Chinese
message (``【橙色预警】企业迁出注销：...``, the same line ``union-warehouse run`` prints),
which carries its level and what fired; the key numbers; where to look; the as-of date,
the rule and the event id a receiver de-duplicates on.

No personal data: the message is the alert's own (rules never put a person's name, ID
number or phone in it), and of the evidence only the numbers named in :data:`NUMBERS`
are shown. The evidence itself, which also holds record ids and employer names, is never
dumped into a message.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.config import BEIJING

from .levels import LEVEL_LABELS, LEVELS
from .rules import RULE_SPECS

Payload = Mapping[str, Any]

SENDER_ZH = "东城区总工会劳动关系预警"
EVENT_LABELS = {
    "opened": "新预警",
    "escalated": "升级",
    "reopened": "再次触发",
    "resolved": "解除",
    "deescalated": "降级",  # delivered only to a sink configured late (an open alert's latest event)
}
LEVEL_COLOURS = {"红": "#c62828", "橙": "#ef6c00", "黄": "#f9a825", "蓝": "#1565c0"}
OPERATOR_COLOUR = "#616161"


def _count(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.1f}"


def _money(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.2f}"


def _share(v: float) -> str:
    return f"{v * 100:.1f}%"


def _plain(v: float) -> str:
    return f"{v:g}"


# The numbers of the evidence shown, in this order: key -> (label, format, unit). Only
# numbers (never text: the evidence also holds names of employers and record ids).
NUMBERS: dict[str, tuple[str, Callable[[float], str], str]] = {
    "workers_involved": ("涉及职工", _count, "人"),
    "open_days": ("已受理", _count, "天"),
    "amount_claimed_yuan": ("申请金额", _money, "元"),
    "cases": ("争议案件", _count, "件"),
    "tickets": ("热线工单", _count, "件"),
    "recent_cases": ("近期受理", _count, "件"),
    "baseline_avg_per_window": ("基期平均", _plain, "件"),
    "ratio": ("为基期的", _plain, "倍"),
    "employees_covered": ("覆盖职工", _count, "人"),
    "hours_overdue_at_end_of_as_of": ("已超期", _count, "小时"),
    "street_overdue_tickets": ("本街道超期工单", _count, "件"),
    "employees_before": ("原有职工", _count, "人"),
    "employees_after": ("现有职工", _count, "人"),
    "employee_fall": ("职工减少", _count, "人"),
    "employee_fall_share": ("职工减少比例", _share, ""),
    "active_members_before": ("原在会会员", _count, "人"),
    "active_members_after": ("现在会会员", _count, "人"),
    "member_fall": ("会员减少", _count, "人"),
    "member_fall_share": ("会员减少比例", _share, ""),
    "closed_cases": ("本季度结案", _count, "件"),
    "success_rate": ("本季度调解成功率", _share, ""),
    "previous_success_rate": ("上季度调解成功率", _share, ""),
    "drop_points": ("下降", _plain, "个百分点"),
    "days_silent": ("未报送", _count, "天"),
    "failed_runs": ("连续失败", _count, "次"),
}


def event_label(p: Payload) -> str:
    """新预警 / 升级（黄→橙） / 再次触发 / 解除 / 降级（橙→黄）."""
    label = EVENT_LABELS.get(p["event_type"], p["event_type"])
    if p["event_type"] in ("escalated", "deescalated") and p.get("previous_level"):
        label += f"（{p['previous_level']}→{p['level']}）"
    return label


def level_text(p: Payload) -> str:
    """橙色预警（II级，严重） for a warning, 运维预警·橙 for an operator alert."""
    if p.get("rule_kind") == "labour":
        return LEVEL_LABELS.get(p["level"], f"{p['level']}色预警")
    return f"运维预警·{p['level']}"


def headline(p: Payload) -> str:
    """What happened and where, e.g. ``新预警｜建国门街道``."""
    return f"{event_label(p)}｜{p['area_name']}"


def key_numbers(p: Payload) -> list[str]:
    """The evidence's numbers, labelled (``涉及职工40人``); never its text."""
    evidence = p.get("evidence") or {}
    out = []
    for key, (label, fmt, unit) in NUMBERS.items():
        value = evidence.get(key) if isinstance(evidence, Mapping) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.append(f"{label}{fmt(value)}{unit}")
    return out


def where_to_look(p: Payload) -> str:
    spec = RULE_SPECS.get(p["rule_code"])
    source = spec.look_at if spec else ""
    if p.get("rule_kind") == "labour":
        text = f"已发布数据仓库 alerts.alerts（预警编号 {p['alert_id']}）"
        return text + (f"；明细 {source}" if source else "")
    return f"预警编号 {p['alert_id']}" + (f"；{source}" if source else "")


def beijing_time(occurred_at: str) -> str:
    """``2016-01-01T02:00:00Z`` as ``2016-01-01 10:00``, Beijing time (a time without an
    offset is UTC, as the events record it)."""
    try:
        t = datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
    except (ValueError, AttributeError, TypeError):
        return str(occurred_at)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def footnote(p: Payload) -> str:
    return (
        f"截至{p['as_of']} · 规则 {p['rule_code']}（{p['rule_name']}） · "
        f"记录于 {beijing_time(p['occurred_at'])}（北京时间） · 事件编号 {p['event_id']}"
    )


def counts_summary(payloads: Sequence[Payload]) -> str:
    """``新预警2条，解除1条``."""
    counts = {
        label: sum(p["event_type"] == kind for p in payloads) for kind, label in EVENT_LABELS.items()
    }
    return "，".join(f"{label}{n}条" for label, n in counts.items() if n)


def most_severe_first(payloads: Sequence[Payload]) -> list[Payload]:
    """Warnings before operator alerts, 红 before 蓝, resolutions last; stable otherwise."""
    order = {lv: i for i, lv in enumerate(LEVELS)}
    return sorted(
        payloads,
        key=lambda p: (
            p["event_type"] == "resolved",
            p.get("rule_kind") != "labour",
            order.get(p["level"], len(order)),
        ),
    )


# --- e-mail ---------------------------------------------------------------------------------


def email_subject(payloads: Sequence[Payload]) -> str:
    return f"[{SENDER_ZH}] {len(payloads)}条预警变动（{counts_summary(payloads)}）"


def _intro(payloads: Sequence[Payload]) -> str:
    dates = sorted({str(p["as_of"]) for p in payloads})
    return f"截至{'、'.join(dates)}的预警变动{len(payloads)}条（{counts_summary(payloads)}），按严重程度排列："


CLOSING = "本邮件由东城区总工会数据平台自动发送，不含个人信息；预警历史见数据仓库 alerts.alert_events。"


def email_text(payloads: Sequence[Payload]) -> tuple[str, str]:
    """(subject, plain-text body) of the e-mail listing ``payloads``."""
    lines = [_intro(payloads), ""]
    for i, p in enumerate(most_severe_first(payloads), 1):
        lines.append(f"{i}. {headline(p)}")
        lines.append(f"   {p['message']}")
        numbers = key_numbers(p)
        if numbers:
            lines.append(f"   关键数字：{'；'.join(numbers)}")
        lines.append(f"   查看：{where_to_look(p)}")
        lines.append(f"   {footnote(p)}")
        lines.append("")
    lines.append(CLOSING)
    return email_subject(payloads), "\n".join(lines) + "\n"


def email_html(payloads: Sequence[Payload]) -> str:
    """The same message as HTML (inline styles only: mail clients drop style sheets)."""
    e = html.escape
    items = []
    for p in most_severe_first(payloads):
        colour = LEVEL_COLOURS.get(p["level"], OPERATOR_COLOUR) if p.get("rule_kind") == "labour" else OPERATOR_COLOUR
        numbers = key_numbers(p)
        facts = [("级别", level_text(p)), ("街道", p["area_name"]), ("事件", event_label(p))]
        if numbers:
            facts.append(("关键数字", "；".join(numbers)))
        facts += [("查看", where_to_look(p)), ("截至", str(p["as_of"]))]
        rows = [
            f'<tr><td style="color:#555;padding:2px 8px 2px 0;white-space:nowrap">{e(k)}</td>'
            f'<td style="padding:2px 0">{e(v)}</td></tr>'
            for k, v in facts
        ]
        items.append(
            f'<div style="border-left:6px solid {colour};margin:0 0 14px 0;padding:6px 12px;background:#fafafa">'
            f'<div style="font-weight:bold;font-size:15px;color:{colour}">{e(headline(p))}</div>'
            f'<div style="margin:4px 0 6px 0;font-size:14px">{e(p["message"])}</div>'
            f'<table style="font-size:13px;border-collapse:collapse">{"".join(rows)}</table>'
            f'<div style="color:#888;font-size:12px;margin-top:4px">{e(footnote(p))}</div>'
            "</div>"
        )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{e(email_subject(payloads))}</title></head>"
        '<body style="font-family:\'Microsoft YaHei\',\'PingFang SC\',sans-serif;color:#222">'
        f'<h2 style="font-size:18px">{e(SENDER_ZH)}</h2>'
        f"<p>{e(_intro(payloads))}</p>{''.join(items)}"
        f'<p style="color:#888;font-size:12px">{e(CLOSING)}</p></body></html>'
    )


# --- chat robots ----------------------------------------------------------------------------

_MD_UNSAFE = str.maketrans({"*": "＊", "<": "＜", ">": "＞", "`": "'", "[": "［", "]": "］", "#": "＃", "|": "｜"})
MAX_MESSAGE_CHARS = 500  # an alert's message longer than this is cut (one message holds several)


@dataclass(frozen=True)
class ChatStyle:
    """How a robot renders text: ``markdown`` (WeCom, DingTalk) or plain ``text``
    (Feishu); ``line_break`` is what starts a new line (DingTalk's markdown wants a blank
    line between lines, WeCom's a newline)."""

    markdown: bool
    line_break: str = "\n"


@dataclass(frozen=True)
class ChatMessage:
    payloads: tuple[Payload, ...]  # the events it carries: delivered, or not, together
    title: str  # a short line (DingTalk shows it in the notification)
    text: str


def _data(text: str, style: ChatStyle) -> str:
    """Text from the data (a message, a street name), made inert in markdown."""
    text = " ".join(str(text).split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    return text.translate(_MD_UNSAFE) if style.markdown else text


def chat_section(p: Payload, number: int, style: ChatStyle) -> str:
    head = _data(f"{number}. {headline(p)}", style)
    lines = [f"**{head}**" if style.markdown else head, _data(p["message"], style)]
    facts = []
    numbers = key_numbers(p)
    if numbers:
        facts.append(f"关键数字：{'；'.join(numbers)}")
    facts += [f"查看：{where_to_look(p)}", footnote(p)]
    quote = "> " if style.markdown else ""
    lines += [quote + _data(f, style) for f in facts]
    return style.line_break.join(lines)


def _chat_header(payloads: Sequence[Payload], part: str, style: ChatStyle) -> str:
    line = f"{len(payloads)}条预警变动（{counts_summary(payloads)}）{part}"
    title = f"**{SENDER_ZH}**" if style.markdown else SENDER_ZH
    return style.line_break.join([title, line])


def chat_messages(
    payloads: Sequence[Payload], style: ChatStyle, *, max_bytes: int, batch: int
) -> list[ChatMessage]:
    """The events as robot messages, most severe first: at most ``batch`` events and
    ``max_bytes`` of UTF-8 text a message (a robot refuses a longer one)."""
    ordered = most_severe_first(payloads)
    sep = "\n\n"  # a blank line between the header and each event (ends a quote block)
    groups: list[list[Payload]] = []
    for p in ordered:
        if groups and len(groups[-1]) < batch:
            trial = [*groups[-1], p]
            if len(_render(trial, "（第99/99部分）", style, sep).encode("utf-8")) <= max_bytes:
                groups[-1] = trial
                continue
        groups.append([p])
    out = []
    for i, group in enumerate(groups, 1):
        part = f"（第{i}/{len(groups)}部分）" if len(groups) > 1 else ""
        title = f"劳动关系预警：{len(group)}条变动（{counts_summary(group)}）"
        out.append(ChatMessage(tuple(group), title, _render(group, part, style, sep)))
    return out


def _render(group: Sequence[Payload], part: str, style: ChatStyle, sep: str) -> str:
    sections = [chat_section(p, n, style) for n, p in enumerate(group, 1)]
    return sep.join([_chat_header(group, part, style), *sections])
