"""The rule catalogue: every file rule and row rule of the contract under a stable code.

Each rule has a severity (file rejected / row quarantined / warning only / duplicate
recorded), a Chinese message for the street's clerk saying what is wrong and how to fix
it, and an English one for operators. Messages are templates: ``{header}`` is the
column's Chinese header, ``{column}`` its English name, ``{other_header}`` the second
column of a cross-field rule, ``{detail}`` a value-free detail (never a raw value).

Which rules apply to which dataset and column is derived from the dataset declarations
(:func:`applicable_rules`), so the validators, this catalogue, the receipts and the docs
all read the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .datasets import DATASETS, MEMBERS
from .schema import (
    INSTRUCTIONS_SHEET,
    MAX_CELL_CHARS,
    ColumnType,
    Dataset,
)


class Severity(StrEnum):
    REJECT = "reject"  # the whole file is rejected
    QUARANTINE = "quarantine"  # the row is quarantined, the rest of the file loads
    WARNING = "warning"  # reported, the row still loads
    DUPLICATE = "duplicate"  # the same bytes were already received: recorded, nothing loads


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    zh: str
    en: str

    @property
    def is_file_rule(self) -> bool:
        return self.code.startswith("file.")

    def message_zh(self, **fields: str) -> str:
        return _fill(self.zh, fields)

    def message_en(self, **fields: str) -> str:
        return _fill(self.en, fields)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, fields: dict[str, str]) -> str:
    return template.format_map(_Blank(fields)).strip()


R, Q, W, D = Severity.REJECT, Severity.QUARANTINE, Severity.WARNING, Severity.DUPLICATE

_RULES: tuple[Rule, ...] = (
    # --- file rules: the whole file is rejected with one reason -------------------------
    Rule("file.unsupported_format", R,
         "文件格式不受支持，请另存为 .xlsx、.xls、.et、.ods、.csv 或 .jsonl 后重新上报。",
         "unsupported file format (accepted: .xlsx, .xls, .et, .ods, .csv, .jsonl)"),
    Rule("file.too_large", R,
         "文件超过大小上限{detail}，请拆分后分别上报。",
         "file larger than the configured limit{detail}"),
    Rule("file.unknown_dataset", R,
         "文件放在了未知的数据集文件夹中，请放入对应数据集的文件夹：用英文名或中文名均可"
         f"（如 {MEMBERS.name} 或 {MEMBERS.folder_zh}），见模板的「{INSTRUCTIONS_SHEET}」。",
         "unknown dataset folder (neither a dataset's name nor its Chinese name){detail}"),
    Rule("file.unknown_street", R,
         "文件所在的街道文件夹不在街道名单中，请放入本街道代码对应的文件夹。",
         "street folder not in the street list{detail}"),
    Rule("file.unreadable", R,
         "文件无法打开或已损坏，请重新导出后上报。",
         "file cannot be read{detail}"),
    Rule("file.link", R,
         "该文件是快捷方式/链接，未被读取。请上传文件本身，不要上传快捷方式/链接。",
         "symbolic link in the drop zone: never followed, nothing read{detail}"),
    Rule("file.encoding", R,
         "文件编码无法识别，请以 UTF-8 或 GBK 编码另存为 CSV 后上报。",
         "file is neither UTF-8 nor GBK/GB18030{detail}"),
    Rule("file.empty", R,
         "文件没有任何数据行，请填写数据后上报。",
         "file has no data rows"),
    Rule("file.no_header", R,
         "第1行不是表头，请按模板在第1行填写中文表头。",
         "row 1 is not a header row that names the dataset's columns"),
    # Names every missing column at once ({header}: 「A」、「B」 once filled, see
    # feedback.wording.rejection_message); {detail}: the header cells naming no column.
    Rule("file.missing_column", R,
         "缺少必填列「{header}」，请按模板补齐后重新上报。{detail}",
         "required column(s) missing: {column}{detail}"),
    Rule("file.duplicate_column", R,
         "表头中「{header}」出现了不止一次，请删除重复的列。",
         "column appears more than once in the header: {column}"),
    # Truncation vs a stray quote: a file cut short does not end with a line break, and
    # its last line, read alone, ends inside quotes or has fewer fields than the header.
    # A quote left open by an earlier line, or by a last line that a line break follows,
    # is a stray quote: each line it swallowed is quarantined (row.broken_quote).
    Rule("file.truncated", R,
         "文件不完整（最后一行被截断），请重新导出完整文件后上报。",
         "file is truncated: it does not end with a line break and its last line, read "
         "alone, ends inside quotes or has fewer fields than the header"),
    Rule("file.extra_sheet", R,
         "工作簿中除第1个工作表外，还有工作表含有数据（也可能是隐藏的工作表）。只读取第1个工作表，"
         f"请把数据行移到第1个工作表，或删除多余的工作表后重新上报（模板自带的「{INSTRUCTIONS_SHEET}」无需删除）。",
         "workbook holds data on a sheet other than the first{detail}; only the first sheet "
         "is read, the template's own instruction and list sheets excepted"),
    Rule("file.duplicate", D,
         "该文件与已上报的文件内容完全相同，已记录，无需重复上报。",
         "same bytes as an earlier submission{detail}; recorded, nothing loaded"),
    # --- row rules: the row is quarantined with every reason ----------------------------
    Rule("row.malformed", Q,
         "该行的列数与表头不一致（可能多了或少了分隔符），请检查该行。",
         "row does not match the header (wrong number of fields or not a JSON object)"),
    Rule("row.broken_quote", Q,
         "该行有不成对的英文双引号（\"）或单元格内换行，与相邻的行连成了一条记录，"
         "这几行均未入库；请删除多余的引号或换行后重新上报。",
         "line of a CSV record spanning several lines (a stray quote, or a line break inside "
         "a value of a column that allows none); each line of it is quarantined on its own"),
    Rule("required", Q,
         "「{header}」为必填项，请填写。",
         "required value missing: {column}"),
    Rule("int.invalid", Q,
         "「{header}」应为整数，请只填写数字。",
         "{column} is not an integer"),
    Rule("int.range", Q,
         "「{header}」超出允许范围{detail}，请核对。",
         "{column} out of range{detail}"),
    Rule("decimal.invalid", Q,
         "「{header}」应为数字（可带小数），请核对。",
         "{column} is not a number"),
    Rule("decimal.range", Q,
         "「{header}」超出允许范围{detail}，请核对。",
         "{column} out of range{detail}"),
    Rule("money.invalid", Q,
         "「{header}」应为不小于0的金额（单位：元，最多两位小数），请核对。",
         "{column} is not an amount in yuan (>= 0, at most 2 decimals)"),
    Rule("date.invalid", Q,
         "「{header}」不是有效日期，请按 2015-07-01 的格式填写。",
         "{column} is not a valid date"),
    Rule("datetime.invalid", Q,
         "「{header}」不是有效时间，请按 2015-07-01 09:30 的格式填写。",
         "{column} is not a valid date-time"),
    Rule("bool.invalid", Q,
         "「{header}」只能填写「是」或「否」。",
         "{column} is not a yes/no value"),
    Rule("enum.unknown", Q,
         "「{header}」的取值不在可选范围内，请从下拉列表中选择。",
         "{column} is not one of the allowed values"),
    Rule("id_number.format", Q,
         "「{header}」应为18位身份证号（前17位数字，末位数字或X）。",
         "{column} is not 17 digits and a check character"),
    Rule("id_number.check_digit", Q,
         "「{header}」校验位不正确，请核对身份证号是否抄错。",
         "{column} check digit is wrong"),
    Rule("id_number.birth_date", Q,
         "「{header}」中的出生日期（第7-14位）不是有效日期，请核对。",
         "{column} digits 7-14 are not a real date"),
    Rule("uscc.format", Q,
         "「{header}」应为18位统一社会信用代码（不含 I、O、S、V、Z）。",
         "{column} is not 18 characters of the credit-code alphabet"),
    Rule("uscc.check_digit", Q,
         "「{header}」校验位不正确，请核对统一社会信用代码。",
         "{column} check character is wrong"),
    Rule("phone.format", Q,
         "「{header}」应为11位手机号或“区号-号码”形式的固定电话。",
         "{column} is not a mainland mobile or landline number"),
    Rule("gender.id_mismatch", Q,
         "「性别」与身份证号第17位不一致（奇数为男，偶数为女），请核对。",
         "gender disagrees with the ID number's 17th digit"),
    Rule("birth_date.id_mismatch", Q,
         "「出生日期」与身份证号中的出生日期不一致，请核对。",
         "birth_date disagrees with the ID number"),
    Rule("join_date.under_16", Q,
         "「入会日期」早于年满16周岁的日期，请核对入会日期或身份证号。",
         "join_date is before the member's 16th birthday"),
    Rule("date.after_as_of", Q,
         "「{header}」晚于「统计日期」，请核对。",
         "{column} is after as_of_date"),
    Rule("end_date.not_after_start", Q,
         "「终止日期」必须晚于「生效日期」，请核对。",
         "end_date is not after start_date"),
    Rule("closed_date.required", Q,
         "案件状态为已结案（调解成功、调解不成、撤回、转仲裁）时必须填写「结案日期」。",
         "closed_date is required for a closed case"),
    Rule("closed_date.before_received", Q,
         "「结案日期」不能早于「受理日期」，请核对。",
         "closed_date is before received_date"),
    Rule("deadline_at.not_after_received", Q,
         "「办理时限」必须晚于「派单时间」，请核对。",
         "deadline_at is not after received_at"),
    Rule("union_credit_code.required", Q,
         "已完成法人资格登记的工会必须填写「工会统一社会信用代码」。",
         "union_credit_code is required when legal_person_registered"),
    Rule("union_credit_code.prefix", Q,
         "「工会统一社会信用代码」应以81开头（基层工会），请核对。",
         "union_credit_code does not start with 81 (grassroots union)"),
    Rule("street_mismatch", Q,
         "「街道代码」与上报街道不一致：每个街道只能上报本街道的数据。",
         "street_code is not the submitting street's"),
    Rule("duplicate_key_in_file", Q,
         "「{header}」在本文件中重复出现，重复的各行均未入库，请保留一行后重新上报。",
         "{column} appears more than once in the file; every copy is quarantined"),
    Rule("id_number.duplicate_active", Q,
         "同一身份证号在本名单中有多条“在会”记录，请核对后只保留一条。",
         "the same id_number appears on more than one active (status 在会) row"),
    Rule("as_of_date.inconsistent", Q,
         "「统计日期」与本文件其他行不一致（一个文件只能有一个统计日期）。",
         "as_of_date differs from the file's as-of date"),
    Rule("value.too_long", Q,
         f"「{{header}}」的内容超过{MAX_CELL_CHARS}个字符，请检查是否误粘贴了其他内容。",
         f"{{column}} is longer than {MAX_CELL_CHARS} characters"),
    Rule("value.line_break", Q,
         "「{header}」中有换行（如在 Excel 中按 Alt+Enter 输入的换行），请删除换行后重新上报。",
         "{column} contains a line break"),
    # --- warnings: reported, the row loads -----------------------------------------------
    Rule("members.exceed_employees", W,
         "「会员人数」大于「职工人数」，请核对（仅提示，不影响入库）。",
         "members greater than employees (warning only)"),
)

CATALOGUE: dict[str, Rule] = {r.code: r for r in _RULES}

_TYPE_CODES: dict[ColumnType, tuple[str, ...]] = {
    ColumnType.STR: (),
    ColumnType.INT: ("int.invalid", "int.range"),
    ColumnType.DECIMAL: ("decimal.invalid", "decimal.range"),
    ColumnType.MONEY: ("money.invalid",),
    ColumnType.DATE: ("date.invalid",),
    ColumnType.DATETIME: ("datetime.invalid",),
    ColumnType.BOOL: ("bool.invalid",),
    ColumnType.ENUM: ("enum.unknown",),
    ColumnType.ID18: ("id_number.format", "id_number.check_digit", "id_number.birth_date"),
    ColumnType.USCC: ("uscc.format", "uscc.check_digit"),
    ColumnType.PHONE: ("phone.format",),
}

FILE_RULES: tuple[str, ...] = tuple(r.code for r in _RULES if r.is_file_rule)


def rule(code: str) -> Rule:
    try:
        return CATALOGUE[code]
    except KeyError:
        raise KeyError(f"rule code {code!r} is not in the catalogue") from None


def type_codes(column_type: ColumnType, *, has_range: bool) -> tuple[str, ...]:
    codes = _TYPE_CODES[column_type]
    if not has_range:
        codes = tuple(c for c in codes if not c.endswith(".range"))
    return codes


@dataclass(frozen=True)
class AppliedRule:
    """A rule as it applies to one dataset: the code and the column(s) it names."""

    code: str
    column: str | None
    other: str | None = None


def applicable_rules(dataset: Dataset) -> tuple[AppliedRule, ...]:
    """Every row rule the validators can raise for ``dataset``, derived from its columns
    and declared rules. The validators raise only these; the docs list these."""
    out: list[AppliedRule] = [AppliedRule("row.malformed", None), AppliedRule("row.broken_quote", None)]
    for col in dataset.columns:
        if col.required:
            out.append(AppliedRule("required", col.name))
        has_range = col.minimum is not None or col.maximum is not None or col.type is ColumnType.INT
        for code in type_codes(col.type, has_range=has_range):
            out.append(AppliedRule(code, col.name))
    if "street_code" in dataset.column_names:
        out.append(AppliedRule("street_mismatch", "street_code"))
    out.append(AppliedRule("duplicate_key_in_file", dataset.key))
    if dataset.is_registry:
        out.append(AppliedRule("as_of_date.inconsistent", "as_of_date"))
    for r in dataset.rules:
        out += [AppliedRule(code, column, other) for code, column, other in r.notices()]
    for col in dataset.columns:  # what every cell must respect, whatever its type
        out.append(AppliedRule("value.too_long", col.name))
        if not col.allows_line_break:
            out.append(AppliedRule("value.line_break", col.name))
    return tuple(out)


CELL_CODES: frozenset[str] = frozenset({"value.too_long", "value.line_break"})
"""Rules on the cell as written: a cell breaking one is reported for them only (the
other rules of its column would only judge a value that is not what was meant)."""


def all_row_codes() -> frozenset[str]:
    return frozenset(a.code for d in DATASETS for a in applicable_rules(d))
