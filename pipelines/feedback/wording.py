"""What the clerks read: the Chinese words for types, severities and each
problem, all derived from the contract and the rule catalogue (never a second list)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from pipelines.contract import STREETS_BY_CODE, Column, ColumnType, Dataset, Severity, rule
from pipelines.contract.rules import CELL_CODES, AppliedRule, applicable_rules

TYPE_ZH: dict[ColumnType, str] = {
    ColumnType.STR: "文本",
    ColumnType.INT: "整数",
    ColumnType.DECIMAL: "数字（可带小数）",
    ColumnType.MONEY: "金额（元，最多两位小数）",
    ColumnType.DATE: "日期（如 2015-07-01）",
    ColumnType.DATETIME: "日期时间（如 2015-07-01 09:30）",
    ColumnType.BOOL: "是/否",
    ColumnType.ENUM: "从下拉列表中选择",
    ColumnType.ID18: "18位居民身份证号",
    ColumnType.USCC: "18位统一社会信用代码",
    ColumnType.PHONE: "11位手机号，或“区号-号码”形式的固定电话",
}

SEVERITY_ZH: dict[Severity, str] = {
    Severity.REJECT: "整个文件退回",
    Severity.QUARANTINE: "该行未入库",
    Severity.WARNING: "仅提示，该行已入库",
    Severity.DUPLICATE: "重复上报，未入库",
}

BOOL_CHOICES: tuple[str, str] = ("是", "否")


def doc_zh(doc: str) -> str:
    """The Chinese part of a contract ``doc`` ("中文说明 (English)")."""
    head, sep, tail = doc.rpartition(" (")
    if sep and tail.endswith(")") and tail[:1].isascii() and tail[:1].isalnum():
        return head.strip()
    return doc.strip()


def header(dataset: Dataset, column: str | None) -> str:
    """The Chinese header of ``column`` ("" for none; the name itself if unknown)."""
    if column is None:
        return ""
    try:
        return dataset.column(column).zh
    except KeyError:
        return column


def header_list(headers: Sequence[str]) -> str:
    """Several headers for a template's 「{header}」: 「A」、「B」、「C」 once filled in."""
    return "」、「".join(headers)


def unknown_headers_text(unknown: Sequence[str]) -> str:
    """What the clerk is told of header cells naming no column ("" for none). Such a
    column never rejects a file (it is kept and not read), but beside a missing column it
    is most likely that column's header misspelt."""
    if not unknown:
        return ""
    return (
        f"另外，表头中的「{header_list(unknown)}」不是模板中的列：如果是上面缺少的列写法不同，"
        "请改为模板中的表头；如果是自行添加的列，可以保留（不会被读取）。"
    )


def rejection_message(
    dataset: Dataset | None, code: str, columns: Sequence[str], unknown: Sequence[str] = ()
) -> str:
    """The clerk's message for a rejected file: the rule's Chinese template naming every
    column of ``columns`` by its Chinese header (as the template shows it), then the
    header cells naming no column (``unknown``, as written). No values."""
    headers = [header(dataset, c) if dataset is not None else c for c in columns]
    return rule(code).message_zh(
        header=header_list(headers),
        column=", ".join(columns),
        detail=unknown_headers_text(unknown),
    )


def street_label(code: str | None) -> str:
    if code is None:
        return "（未知街道）"
    street = STREETS_BY_CODE.get(code)
    return f"{code} {street.name}" if street else code


def range_text(col: Column) -> str:
    """The allowed range of a numeric column in words ("" when unbounded)."""
    low, high = col.effective_minimum, col.maximum
    if low is not None and high is not None:
        return f"{low:g} 至 {high:g}"
    if low is not None:
        return f"不小于{low:g}"
    if high is not None:
        return f"不大于{high:g}"
    return ""


def _detail(dataset: Dataset, code: str, column: str | None) -> str:
    if code.endswith(".range") and column is not None:
        text = range_text(dataset.column(column))
        return f"（{text}）" if text else ""
    return ""


@functools.cache
def problem_message(dataset: Dataset, code: str, column: str | None) -> str:
    """The clerk's message for a problem of ``dataset``: what is wrong and how to fix it
    (the catalogue's Chinese template filled with the column's header; no values)."""
    other = next(
        (a.other for a in applicable_rules(dataset) if a.code == code and a.column == column),
        None,
    )
    return rule(code).message_zh(
        header=header(dataset, column),
        column=column or "",
        other_header=header(dataset, other),
        detail=_detail(dataset, code, column),
    )


def column_rules(dataset: Dataset, column: str) -> list[AppliedRule]:
    """The applied rules naming ``column`` (as their column or their other column)."""
    return [a for a in applicable_rules(dataset) if column in (a.column, a.other)]


def value_hint(dataset: Dataset, col: Column, street_code: str | None = None) -> str:
    """One line saying what to write in ``col``."""
    parts = [TYPE_ZH[col.type]]
    if col.type is ColumnType.ENUM and col.enum_labels:
        # twenty names do not fit an input message (255 characters): the dropdown and the
        # instructions sheet list them
        parts = [f"从下拉列表选择，如“{col.choices[2 if len(col.choices) > 2 else 0]}”；只填代码也可以"]
    elif col.type is ColumnType.ENUM:
        parts = ["可选：" + "、".join(col.enum)]
    rng = (
        range_text(col)
        if col.type in (ColumnType.INT, ColumnType.DECIMAL, ColumnType.MONEY)
        else ""
    )
    if rng:
        parts.append(rng)
    if col.blank_default is not None:
        parts.append(f"留空即为“{col.blank_default}”")
    if col.name == "street_code":
        parts.append(f"留空即为本街道{f'（{street_code}）' if street_code else ''}")
    return "；".join(parts)


def column_prompt(dataset: Dataset, col: Column, street_code: str | None = None) -> str:
    """The input message shown on a template's header and cells (Excel allows 255
    characters): required or not, the type, the meaning, the rules naming the column."""
    lines = [
        ("必填" if col.required else "选填") + "。" + value_hint(dataset, col, street_code) + "。",
        doc_zh(col.doc),
    ]
    seen: set[str] = set()
    for a in column_rules(dataset, col.name):
        # rules every cell has (length, line breaks) are said once, on the instructions sheet
        if a.code in ("required", "row.malformed") or a.code in CELL_CODES or a.code in seen:
            continue
        seen.add(a.code)
        lines.append(problem_message(dataset, a.code, a.column))
    return clip("\n".join(line for line in lines if line), 255)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the quality gate's verdicts, for the clerk ---------------------------------------

_EXPECTATION_ZH: dict[str, str] = {
    "expect_column_values_to_not_be_null": "「{header}」为空的行过多{counts}",
    "expect_column_values_to_be_in_set": "「{header}」有取值不在可选范围内{counts}",
    "expect_column_values_to_be_between": "「{header}」有数值超出允许范围{counts}",
    "expect_column_values_to_match_regex": "「{header}」有格式不正确的值{counts}",
    "expect_column_values_to_be_unique": "「{header}」有重复值{counts}",
    "expect_column_proportion_of_non_null_values_to_be_between": "「{header}」填写比例过低",
    "expect_table_row_count_to_be_between": (
        "本次名单只有{observed}行，不足本街道上一期名单的一半，疑似名单不完整"
    ),
    "expect_column_min_to_be_between": "「{header}」最早日期早于上一期名单，疑似重复上报旧名单",
    "expect_column_max_to_be_between": "「{header}」最新记录距统计日期过久，疑似数据未更新",
    "expect_column_pair_values_a_to_be_greater_than_b": "多行「{header}」与相关列的大小关系不合理",
}


def expectation_zh(
    dataset: Dataset,
    expectation: str,
    column: str | None,
    unexpected: int | None,
    total: int | None,
    observed: str | None,
) -> str:
    """A failed quality expectation in the clerk's words (counts only, never values)."""
    counts = f"（{unexpected}/{total} 行）" if unexpected is not None and total else ""
    template = _EXPECTATION_ZH.get(expectation, "未通过数据质量检查")
    text = template.format(
        header=header(dataset, column), counts=counts, observed=observed or "若干"
    )
    return f"{text}［{expectation}{f'({column})' if column else ''}］"
