"""Fill-in spreadsheet templates for the streets, one ``.xlsx`` per dataset.

Sheet 1 (the data sheet, the one the pipeline reads): row 1 holds the Chinese headers
in contract order, each with an input message (type, required or not, meaning, rules);
the cells below carry the same message plus Excel data validation: a dropdown for every
enum and yes/no column (the contract's values, 是/否), whole numbers / numbers within the
contract's range, 18 characters for ID numbers and credit codes, dates. Date columns are
formatted as dates, text columns (codes, ID numbers, phones) as text so Excel never turns
an ID number into 1.1E+17. With a street, its code is pre-filled on the first data row
and is the only value the street-code dropdown offers (a blank street code means the
folder's street anyway). An enum whose values have names (行业门类) offers "C 制造业" and
so on; the pipeline also takes the code alone, so typing one only draws a warning. Sheet 2
(填报说明): the dataset, where to drop the file (its folder by English or Chinese name),
every column, the names of named enum values, every rule of the catalogue that applies to
the dataset, and the file rules. It speaks only of what the clerk has in hand: the
template, the drop folder and the receipt, never of the project's own documents.

A list longer than Excel's 255-character inline limit (a city-wide street list) is put
on a hidden sheet and referenced from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.contract import (
    DATASETS,
    FILE_RULES,
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    STREETS,
    STREETS_BY_CODE,
    Column,
    ColumnType,
    Dataset,
    Street,
    applicable_rules,
    get_dataset,
    rule,
)
from pipelines.spreadsheet import MAX_ROWS, StreamingSheet, StreamingWorkbook

from .wording import (
    BOOL_CHOICES,
    SEVERITY_ZH,
    TYPE_ZH,
    clip,
    column_prompt,
    doc_zh,
    header,
    problem_message,
    street_label,
    value_hint,
)

# INSTRUCTIONS_SHEET, LISTS_SHEET: named in the contract, whose reader lets them follow the data sheet
INLINE_LIST_LIMIT = 255  # characters of an inline list validation (Excel's limit)
LAST_ROW = MAX_ROWS - 1  # validations and formats reach the sheet's last row
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2099, 12, 31)

_TEXT_TYPES = (
    ColumnType.STR,
    ColumnType.ENUM,
    ColumnType.ID18,
    ColumnType.USCC,
    ColumnType.PHONE,
    ColumnType.BOOL,
)
_NUM_FORMATS: dict[ColumnType, str] = {
    ColumnType.DATE: "yyyy-mm-dd",
    ColumnType.DATETIME: "yyyy-mm-dd hh:mm",
    ColumnType.INT: "0",
    ColumnType.MONEY: "0.00",
    ColumnType.DECIMAL: "General",
}
HEADER_STYLE: dict[str, Any] = {"bold": True, "bg_color": "#DDEBF7", "border": 1}
REQUIRED_HEADER_STYLE: dict[str, Any] = {**HEADER_STYLE, "font_color": "#C00000"}


def template_path(out_dir: Path, dataset: Dataset, street: Street | None = None) -> Path:
    """``<out>/<dataset>.xlsx``, or ``<out>/<street_code>/<dataset>.xlsx`` for a street
    (the file can be dropped as it is into ``inbox/<street_code>/<dataset>/``)."""
    folder = out_dir / street.code if street else out_dir
    return folder / f"{dataset.name}.xlsx"


def write_templates(
    out_dir: Path | str, dataset: str | None = None, street: str | None = None
) -> list[Path]:
    """Write the template of ``dataset`` (default: every dataset), pre-filled for
    ``street`` when given; returns the files written."""
    out_dir = Path(out_dir)
    chosen = [get_dataset(dataset)] if dataset else list(DATASETS)
    who: Street | None = None
    if street is not None:
        who = STREETS_BY_CODE.get(street)
        if who is None:
            raise ValueError(f"unknown street code {street!r}")
    return [write_template(template_path(out_dir, d, who), d, who) for d in chosen]


def write_template(target: Path, dataset: Dataset, street: Street | None = None) -> Path:
    title = f"{dataset.zh}填报模板" + (f"（{street.name}）" if street else "")
    with StreamingWorkbook(target, {"title": title, "author": "东城区总工会"}, small=True) as wb:
        data = wb.add_sheet(dataset.zh)
        instructions = wb.add_sheet(INSTRUCTIONS_SHEET)
        lists = _Lists(wb)
        _write_data_sheet(data, dataset, street, lists)
        _write_instructions(instructions, dataset, street)
        lists.finish()
    return target


# --- the data sheet -------------------------------------------------------------------


class _Lists:
    """Dropdown sources: inline when short enough, else a column of a hidden sheet."""

    def __init__(self, wb: StreamingWorkbook) -> None:
        self.wb = wb
        self.columns: list[Sequence[str]] = []

    def source(self, values: Sequence[str]) -> list[str] | str:
        if sum(len(v) + 1 for v in values) - 1 <= INLINE_LIST_LIMIT and not any(
            "," in v or '"' in v for v in values
        ):
            return list(values)
        self.columns.append(values)
        col = _column_letter(len(self.columns) - 1)
        return f"='{LISTS_SHEET}'!${col}$1:${col}${len(values)}"

    def finish(self) -> None:
        if not self.columns:
            return
        sheet = self.wb.add_sheet(LISTS_SHEET)
        for i in range(max(len(c) for c in self.columns)):
            sheet.write_row([c[i] if i < len(c) else None for c in self.columns])
        sheet.ws.hide()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _write_data_sheet(
    sheet: StreamingSheet, dataset: Dataset, street: Street | None, lists: _Lists
) -> None:
    wb, ws = sheet.workbook, sheet.ws
    code = street.code if street else None
    for i, col in enumerate(dataset.columns):
        props: dict[str, Any] = {"num_format": "@"} if col.type in _TEXT_TYPES else {}
        if col.type in _NUM_FORMATS:
            props = {"num_format": _NUM_FORMATS[col.type]}
        ws.set_column(i, i, _width(col), wb.format(**props) if props else None)
        prompt = column_prompt(dataset, col, code)
        title = clip(f"{col.zh}（{'必填' if col.required else '选填'}）", 32)
        message = {"input_title": title, "input_message": prompt}
        ws.data_validation(0, i, 0, i, {"validate": "any", **message})
        rules = _validation(dataset, col, code, lists)
        ws.data_validation(1, i, LAST_ROW, i, {**rules, **message})
    sheet.write_row(
        [c.zh for c in dataset.columns],
        [REQUIRED_HEADER_STYLE if c.required else HEADER_STYLE for c in dataset.columns],
    )
    ws.freeze_panes(1, 0)
    if street is not None and "street_code" in dataset.column_names:
        first = [street.code if c.name == "street_code" else None for c in dataset.columns]
        sheet.write_row(first)


def _width(col: Column) -> float:
    if col.type in (ColumnType.ID18, ColumnType.USCC, ColumnType.DATETIME):
        return 22
    return max(12.0, min(30.0, 2.2 * len(col.zh) + 2))


def _validation(
    dataset: Dataset, col: Column, street_code: str | None, lists: _Lists
) -> dict[str, Any]:
    """The data validation of a column's data cells."""
    stop = {"error_type": "stop", "error_title": "输入无效"}
    if col.type is ColumnType.ENUM and col.enum_labels:
        return _labelled_list(lists, col)
    if col.type is ColumnType.ENUM:
        return {**_list(lists, col.enum), **stop}
    if col.type is ColumnType.BOOL:
        return {**_list(lists, BOOL_CHOICES), **stop}
    if col.name == "street_code":
        codes = (street_code,) if street_code else tuple(s.code for s in STREETS)
        hint = "只能填写本街道的街道代码，或留空。" if street_code else "请填写街道代码，或留空。"
        return {**_list(lists, codes), **stop, "error_message": hint}
    if col.type in (ColumnType.INT, ColumnType.DECIMAL, ColumnType.MONEY):
        kind = "integer" if col.type is ColumnType.INT else "decimal"
        return {
            "validate": kind,
            **_bounds(col),
            **stop,
            "error_message": clip(f"请填写{value_hint(dataset, col)}。", 255),
        }
    if col.type in (ColumnType.DATE, ColumnType.DATETIME):
        return {
            "validate": "date",
            "criteria": "between",
            "minimum": DATE_MIN,
            "maximum": DATE_MAX,
            "error_type": "warning",
            "error_title": "日期无效",
            "error_message": f"请填写{TYPE_ZH[col.type]}。",
        }
    if col.type in (ColumnType.ID18, ColumnType.USCC):
        return {
            "validate": "length",
            "criteria": "==",
            "value": 18,
            **stop,
            "error_message": f"请填写{TYPE_ZH[col.type]}（共18位）。",
        }
    return {"validate": "any"}


def _bounds(col: Column) -> dict[str, Any]:
    low, high = col.effective_minimum, col.maximum
    if low is not None and high is not None:
        return {"criteria": "between", "minimum": low, "maximum": high}
    if low is not None:
        return {"criteria": ">=", "value": low}
    if high is not None:
        return {"criteria": "<=", "value": high}
    return {"criteria": "between", "minimum": -1e15, "maximum": 1e15}


def _list(lists: _Lists, values: Sequence[str]) -> dict[str, Any]:
    message = clip("请从下拉列表中选择：" + "、".join(values), 255)
    return {"validate": "list", "source": lists.source(values), "error_message": message}


def _labelled_list(lists: _Lists, col: Column) -> dict[str, Any]:
    """The dropdown of an enum whose values have names: "C 制造业" and so on. A code typed
    alone (C) is accepted by the pipeline too, so Excel only warns about it (the clerk
    answers 是 to keep it) instead of refusing it."""
    example, code = col.choices[0], col.enum[0]
    message = (
        f"请从下拉列表中选择，如“{example}”。只填写前面的代码（如“{code}”）也可以，"
        "在提示框中点“是”保留即可。"
    )
    return {
        "validate": "list",
        "source": lists.source(col.choices),
        "error_type": "warning",
        "error_title": "请核对",
        "error_message": clip(message, 255),
    }


# --- the instructions sheet -----------------------------------------------------------

TITLE_STYLE: dict[str, Any] = {"bold": True, "font_size": 14}
SECTION_STYLE: dict[str, Any] = {"bold": True, "font_size": 12}
WRAP: dict[str, Any] = {"text_wrap": True, "valign": "top"}


@dataclass(frozen=True)
class _Table:
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]


def drop_folders(dataset: Dataset, street: Street | None) -> tuple[str, str]:
    """Where the file goes: the dataset's folder by its English name, and by its Chinese
    name (both are that dataset's folder)."""
    street_folder = f"inbox/{street.code if street else '<街道代码>'}"
    return f"{street_folder}/{dataset.name}/", f"{street_folder}/{dataset.folder_zh}/"


def _write_instructions(sheet: StreamingSheet, dataset: Dataset, street: Street | None) -> None:
    sheet.set_widths([24, 26, 16, 40, 60])
    folder, folder_zh = drop_folders(dataset, street)
    sheet.write_row([f"{dataset.zh}（{dataset.name}）填报说明"], TITLE_STYLE)
    if street:
        sheet.write_row([f"街道：{street_label(street.code)}"])
    kind = (
        "名单快照：每次上报本街道截至「统计日期」的完整名单；全文件只能有一个统计日期。"
        "新名单中不再出现的记录视为已减少。"
        if dataset.is_registry
        else f"事件记录：按「{header(dataset, dataset.key)}」更新，"
        "后上报的同编号记录覆盖先前的记录；同一文件中编号不能重复。"
    )
    for line in (
        doc_zh(dataset.doc),
        kind,
        f"上报位置：把本文件放入 {folder}（文件名可自定；支持 .xlsx、.xls、.et（WPS表格）、.ods、.csv、.jsonl）。",
        f"数据集文件夹也可以用中文名：放入 {folder_zh} 和放入 {folder} 完全一样。"
        "同一个文件只需放一次；两个文件夹里放了相同的文件，只入库一次，另一份记为重复文件。",
        "第1行为表头，请勿修改或删除；从第2行起每行一条记录；只读取第一个工作表，"
        "其他工作表（本说明页除外）中不能有数据。",
        "红色表头为必填列。选中单元格可看到该列的填写要求；有下拉箭头的列请从列表中选择。",
        "每次上报后都会生成回执：列出入库行数、未入库的行及其行号、列名、规则代码和修改方法。",
    ):
        sheet.write_row([line])
    tables = [("各列说明", _columns_table(dataset))]
    tables += [
        (f"「{c.zh}」可填写的值（可以只填代码，也可以连同名称一起填写，如“{c.choices[0]}”）", _labels_table(c))
        for c in dataset.columns
        if c.enum_labels
    ]
    tables += [
        ("行规则（违反时该行未入库，或仅提示）", _rules_table(dataset)),
        ("文件规则（违反时整个文件退回）", _file_rules_table()),
    ]
    for title, table in tables:
        sheet.skip()
        sheet.write_row([title], SECTION_STYLE)
        sheet.write_row(table.headers, HEADER_STYLE)
        for row in table.rows:
            sheet.write_row(row, WRAP)
    sheet.skip()
    sheet.write_row(["回执中出现的规则代码，都可以在本页上面的“行规则”和“文件规则”两张表中查到说明和修改方法。"])


def _columns_table(dataset: Dataset) -> _Table:
    rows = [
        (
            c.zh,
            c.name,
            "必填" if c.required else "选填",
            value_hint(dataset, c),
            doc_zh(c.doc),
        )
        for c in dataset.columns
    ]
    return _Table(("列（中文表头）", "英文列名", "是否必填", "填写要求", "说明"), rows)


def _labels_table(col: Column) -> _Table:
    return _Table(("代码", "名称", "下拉列表中的写法"), list(zip(col.enum, col.enum_labels, col.choices, strict=True)))


def _rules_table(dataset: Dataset) -> _Table:
    rows = []
    for a in applicable_rules(dataset):
        r = rule(a.code)
        columns = "、".join(header(dataset, c) for c in (a.column, a.other) if c)
        rows.append(
            (
                a.code,
                columns or "（整行）",
                SEVERITY_ZH[r.severity],
                problem_message(dataset, a.code, a.column),
            )
        )
    return _Table(("规则代码", "涉及列", "处理方式", "说明及修改方法"), rows)


def _file_rules_table() -> _Table:
    rows = [
        (
            code,
            "（整个文件）",
            SEVERITY_ZH[rule(code).severity],
            rule(code).message_zh(header="列名"),
        )
        for code in FILE_RULES
    ]
    return _Table(("规则代码", "涉及列", "处理方式", "说明及修改方法"), rows)
