"""The sections (门类) of GB/T 4754-2017, the national industry classification.

This list is the single source for the ``union_orgs.industry`` column (its allowed
letters, and the names the templates' dropdown shows beside them) and for the dbt seed
``industry_sections.csv`` (written by ``union-warehouse contract-sync``). The warehouse
stores the letter; the name is what a clerk reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    code: str  # the section letter, A-T
    name: str  # 门类名称
    name_en: str


SECTIONS: tuple[Section, ...] = (
    Section("A", "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    Section("B", "采矿业", "Mining"),
    Section("C", "制造业", "Manufacturing"),
    Section("D", "电力、热力、燃气及水生产和供应业", "Production and supply of electricity, heat, gas and water"),
    Section("E", "建筑业", "Construction"),
    Section("F", "批发和零售业", "Wholesale and retail trade"),
    Section("G", "交通运输、仓储和邮政业", "Transport, storage and postal services"),
    Section("H", "住宿和餐饮业", "Accommodation and catering"),
    Section("I", "信息传输、软件和信息技术服务业", "Information transmission, software and IT services"),
    Section("J", "金融业", "Finance"),
    Section("K", "房地产业", "Real estate"),
    Section("L", "租赁和商务服务业", "Leasing and business services"),
    Section("M", "科学研究和技术服务业", "Scientific research and technical services"),
    Section("N", "水利、环境和公共设施管理业", "Water conservancy, environment and public facilities management"),
    Section("O", "居民服务、修理和其他服务业", "Resident services, repair and other services"),
    Section("P", "教育", "Education"),
    Section("Q", "卫生和社会工作", "Health and social work"),
    Section("R", "文化、体育和娱乐业", "Culture, sports and entertainment"),
    Section("S", "公共管理、社会保障和社会组织", "Public administration, social security and social organisations"),
    Section("T", "国际组织", "International organisations"),
)
