"""What the exports read from the published warehouse (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

PERIOD_TYPES = ("month", "quarter", "half", "year")
PERIOD_NAMES = {"month": "月度", "quarter": "季度", "half": "半年", "year": "年度"}

# What the exports show for the warehouse's codes (indicator_values, declared in
# dbt_project/models/indicators/_indicators.yml and seeds/indicator_targets.csv): the one
# place they are put into words. Statuses (达标, 未达标, 进行中, 滞后, 无目标, 无数据) and
# units (人次, 场, 人, 个, 元) are already Chinese in the warehouse; only `ratio` is a code.
INPUT_QUALITY_LABELS = {"passed": "通过", "passed_with_warnings": "有提示", "inputs_left_out": "部分街道未纳入"}
# before a target value: "≥ 95.0%"; DC13's "rising" is met when not below its target
COMPARATOR_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "=", "rising": "≥"}
# the comparator on its own (the spreadsheet's 比较方式 column)
COMPARATOR_LABELS = {**COMPARATOR_SYMBOLS, "rising": "不低于上年同期与上一统计期", "tracked": "仅跟踪"}
UNIT_LABELS = {"ratio": "比率"}
# where a row's target comes from (the 审计信息 sheet's 目标来源 column)
TARGET_BASIS_LABELS = {"plan": "计划值", "pro_rata": "按期折算", "comparison": "同比环比", "none": "无"}
QUARTER_NAMES = ("第一季度", "第二季度", "第三季度", "第四季度")
HALF_NAMES = ("上半年", "下半年")


def period_label_zh(period_type: str, period_start: date) -> str:
    """2015年12月, 2015年第四季度, 2015年下半年, 2015年 (never the code 2015Q4, 2015H2)."""
    year, month = period_start.year, period_start.month
    if period_type == "month":
        return f"{year}年{month}月"
    if period_type == "quarter":
        return f"{year}年{QUARTER_NAMES[(month - 1) // 3]}"
    if period_type == "half":
        return f"{year}年{HALF_NAMES[(month - 1) // 6]}"
    if period_type == "year":
        return f"{year}年"
    raise ValueError(f"unknown period type {period_type!r}")


def label(labels: dict[str, str], code: str | None) -> str:
    """A code's Chinese label; an unknown code is shown as it is rather than hidden."""
    return "" if code is None else labels.get(code, code)


@dataclass(frozen=True)
class PublishedIndicators:
    values: pl.DataFrame
    history: pl.DataFrame
    publish: dict

    @property
    def as_of(self) -> str:
        return str(self.publish["as_of_date"])


def read_published(path: Path) -> PublishedIndicators:
    if not path.exists():
        raise FileNotFoundError(f"no published warehouse at {path}: run `union-warehouse run` first")
    with duckdb.connect(str(path), read_only=True) as con:
        values = con.sql(
            "select * from indicators.indicator_values "
            "order by indicator_code, area_level desc, area_code, period_type, period_start"
        ).pl()
        history = con.sql(
            "select * from indicators.indicator_history "
            "order by indicator_code, area_code, period_type, period_start, version_number"
        ).pl()
        publish = con.sql("select * from audit.publish_manifest order by publish_id desc limit 1").pl()
    if publish.is_empty():
        raise ValueError(f"{path} has no publish manifest")
    return PublishedIndicators(values, history, publish.drop("submissions").to_dicts()[0])
