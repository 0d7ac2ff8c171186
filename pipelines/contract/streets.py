"""The district's streets (街道): reference data for authorisation and reporting.

This list is the single source for the dbt seed ``streets.csv`` (written by
``union-warehouse contract-sync``) and for the drop zone's street folders. Nothing in the
pipeline assumes there are 17: a city-wide deployment lists hundreds here.
"""

from __future__ import annotations

from dataclasses import dataclass

DISTRICT_CODE = "110101"
DISTRICT_NAME = "东城区"


@dataclass(frozen=True)
class Street:
    code: str
    name: str
    pinyin: str


STREETS: tuple[Street, ...] = (
    Street("110101001", "东华门街道", "Donghuamen"),
    Street("110101002", "景山街道", "Jingshan"),
    Street("110101003", "交道口街道", "Jiaodaokou"),
    Street("110101004", "安定门街道", "Andingmen"),
    Street("110101005", "北新桥街道", "Beixinqiao"),
    Street("110101006", "东四街道", "Dongsi"),
    Street("110101007", "朝阳门街道", "Chaoyangmen"),
    Street("110101008", "建国门街道", "Jianguomen"),
    Street("110101009", "东直门街道", "Dongzhimen"),
    Street("110101010", "和平里街道", "Hepingli"),
    Street("110101011", "前门街道", "Qianmen"),
    Street("110101012", "崇文门外街道", "Chongwenmenwai"),
    Street("110101013", "东花市街道", "Donghuashi"),
    Street("110101014", "龙潭街道", "Longtan"),
    Street("110101015", "体育馆路街道", "Tiyuguanlu"),
    Street("110101016", "天坛街道", "Tiantan"),
    Street("110101017", "永定门外街道", "Yongdingmenwai"),
)

STREETS_BY_CODE: dict[str, Street] = {s.code: s for s in STREETS}


def is_known_street(code: str) -> bool:
    return code in STREETS_BY_CODE
