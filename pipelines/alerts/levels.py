"""The four warning levels of Chinese early-warning systems, most severe first.

红 (I, 特别严重) > 橙 (II, 严重) > 黄 (III, 较重) > 蓝 (IV, 一般).
"""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("红", "橙", "黄", "蓝")
LEVEL_LABELS: dict[str, str] = {
    "红": "红色预警（I级，特别严重）",
    "橙": "橙色预警（II级，严重）",
    "黄": "黄色预警（III级，较重）",
    "蓝": "蓝色预警（IV级，一般）",
}


def severity(level: str) -> int:
    """4 for 红 down to 1 for 蓝: a higher number is more severe."""
    return len(LEVELS) - LEVELS.index(level)


def more_severe(a: str, b: str) -> bool:
    return severity(a) > severity(b)
