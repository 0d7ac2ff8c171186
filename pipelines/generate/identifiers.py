"""Identifiers with their check digits: resident IDs and unified social credit codes
(the contract's rules, :mod:`pipelines.rules`), and the organisation code inside a USCC.
"""

from __future__ import annotations

import random
from datetime import date

from pipelines.rules import idcard, uscc

ID_WEIGHTS, ID_CHECK = idcard.WEIGHTS, idcard.CHECK_CHARS
USCC_ALPHABET = uscc.ALPHABET
ORGCODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 (positions 9-17 of a USCC)
id_check_char = idcard.id18_check_char
is_valid_id = idcard.is_valid_id18
uscc_check_char = uscc.uscc_check_char
is_valid_uscc = uscc.is_valid_uscc


def make_id(region: str, birth: date, seq3: int) -> str:
    """``seq3`` is digits 15-17; its last digit is odd for men, even for women."""
    body = f"{region}{birth:%Y%m%d}{seq3:03d}"
    return body + id_check_char(body)


def _orgcode_check(body8: str) -> str:
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(body8, ORGCODE_WEIGHTS, strict=True)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_uscc(prefix8: str, rng: random.Random) -> str:
    """A valid USCC: authority+type (2), region (6), organisation code (9), check (1)."""
    if prefix8.startswith("9") and rng.random() < 0.2:  # business codes issued since 2015: "MA"
        body8 = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        body8 = str(rng.randint(1, 8)) + "".join(rng.choice("0123456789") for _ in range(7))
    body17 = prefix8 + body8 + _orgcode_check(body8)
    return body17 + uscc_check_char(body17)
