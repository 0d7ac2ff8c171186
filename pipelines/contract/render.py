"""Documents generated from the contract: the rule catalogue page and the dataset
reference. ``union-warehouse contract-sync`` writes them; a test fails when the committed
copies drift from the code, so there is never a hand-kept second list."""

from __future__ import annotations

from .datasets import DATASETS
from .rules import CATALOGUE, Severity, applicable_rules
from .schema import INSTRUCTIONS_SHEET, MAX_CELL_CHARS, ColumnType
from .streets import STREETS

_SEVERITY_ZH = {
    Severity.REJECT: "整个文件退回",
    Severity.QUARANTINE: "该行隔离，其余行入库",
    Severity.WARNING: "仅提示，该行入库",
    Severity.DUPLICATE: "记录为重复上报，不入库",
}


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def render_rules_md() -> str:
    lines = [
        "# Rule catalogue (规则目录)",
        "",
        "Generated from `pipelines/contract/rules.py` by `union-warehouse contract-sync`; do not edit.",
        "Every problem the pipeline reports to a street or an operator carries one of these codes.",
        "",
        "| code | severity | 处理 | 给街道的说明 (Chinese, for the clerk) | operator message |",
        "|---|---|---|---|---|",
    ]
    for r in CATALOGUE.values():
        lines.append(
            f"| `{r.code}` | {r.severity.value} | {_SEVERITY_ZH[r.severity]} | "
            f"{_md_escape(r.message_zh(header='列名'))} | {_md_escape(r.message_en(column='<column>'))} |"
        )
    lines += ["", "## Where each row rule applies", ""]
    for d in DATASETS:
        lines.append(f"### {d.name} — {d.zh}")
        lines.append("")
        lines.append("| code | column | with |")
        lines.append("|---|---|---|")
        for a in applicable_rules(d):
            lines.append(f"| `{a.code}` | {a.column or ''} | {a.other or ''} |")
        lines.append("")
    return "\n".join(lines)


def _type_text(c) -> str:  # type: ignore[no-untyped-def]
    if c.type is ColumnType.ENUM and c.enum_labels:
        return "enum: " + "; ".join(c.choices) + " (the letter alone is accepted too, and stored)"
    if c.type is ColumnType.ENUM:
        return "enum: " + "、".join(c.enum)
    rng = []
    if c.effective_minimum is not None:
        rng.append(f">= {c.effective_minimum:g}")
    if c.maximum is not None:
        rng.append(f"<= {c.maximum:g}")
    return c.type.value + (f" ({', '.join(rng)})" if rng else "")


def render_contract_md() -> str:
    lines = [
        "# Submission contract reference (上报数据规范)",
        "",
        "Generated from `pipelines/contract/` by `union-warehouse contract-sync`; do not edit.",
        "Headers may be given in Chinese or English; `*` marks a required column.",
        "A file goes in `inbox/<street_code>/<dataset folder>/`: the folder may bear the "
        "dataset's name or its Chinese name (given under each dataset below); either way the "
        "file is that dataset's.",
        f"No value may be longer than {MAX_CELL_CHARS} characters (`value.too_long`) or hold a "
        "line break (`value.line_break`; in a CSV, `row.broken_quote` for every line of such a "
        "record), except in a column marked `↵` (multi-line free text).",
        f"A workbook (.xlsx, .xls, WPS .et, .ods) is read from its first sheet; any other "
        f"sheet with data rejects it "
        f"(`file.extra_sheet`), except the templates' own 「{INSTRUCTIONS_SHEET}」 and hidden list sheet.",
        "",
        "## Streets",
        "",
        "| street_code | 街道 |",
        "|---|---|",
        *[f"| {s.code} | {s.name} |" for s in STREETS],
        "",
    ]
    for d in DATASETS:
        lines += [
            f"## {d.name} — {d.zh} ({d.kind.value}, key `{d.key}`)",
            "",
            d.doc,
            "",
            f"Folder: `{d.name}` or `{d.folder_zh}`.",
            "",
            "| column | 中文表头 | type | personal | meaning |",
            "|---|---|---|---|---|",
        ]
        for c in d.columns:
            marks = ("*" if c.required else "") + (" ↵" if c.allows_line_break else "")
            lines.append(
                f"| {c.name}{marks} | {c.zh} | {_md_escape(_type_text(c))} | "
                f"{'yes' if c.personal else ''} | {_md_escape(c.doc)} |"
            )
        lines.append("")
    return "\n".join(lines)
