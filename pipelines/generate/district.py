"""A realistic, deterministic Dongcheng district for 2015: every street's registries
(three quarterly snapshots) and event records, shaped so the work plan's indicators
(DC01-DC17) are meaningful: close to their targets, with differences between streets.

Layout of this module:

1. calendar, check digits (ID, USCC), randomness (scalar ``random.Random`` streams and
   a vectorised polars stream for members);
2. vocabularies (names, employers, titles);
3. the model: street profiles, union orgs, members (vectorised), staff, event records;
4. :func:`build_district` and :func:`plan_files` (typed frames -> styled string tables).

Nothing here reads the clock; the same seed gives the same district.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path

import polars as pl

from pipelines.contract import STREETS, ColumnType, Dataset, Street, get_dataset
from pipelines.contract.datasets import (
    DISPUTE_TYPE,
    HARDSHIP_CAUSE,
    TICKET_CATEGORY,
    WORKER_TYPE,
)
from pipelines.rules import idcard, uscc

from .writers import (
    JSONL_MAX_ROWS,
    XLSX_MAX_ROWS,
    FileFormat,
    PlannedFile,
    StringTable,
    TextStyle,
    planned_bytes,
    render_table,
    write_planned,
)

YEAR = 2015
YEAR_START = date(2015, 1, 1)
YEAR_END = date(2015, 12, 31)
SNAPSHOT_DATES: tuple[date, ...] = (date(2015, 6, 30), date(2015, 9, 30), date(2015, 12, 31))
EPOCH = date(1970, 1, 1)

REGISTRIES = ("union_orgs", "members", "street_staff")
EVENT_PERIODS: dict[str, str] = {  # dataset -> Q (quarterly files) or M (monthly files)
    "collective_contracts": "Q",
    "dispute_cases": "Q",
    "hotline_tickets": "M",
    "legal_services": "M",
    "training_events": "Q",
    "education_grants": "Q",
    "facilities": "Q",
    "hardship_cases": "Q",
}

# --- check digits: the contract's rules (pipelines.rules), and the organisation code ----------

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


# --- randomness -----------------------------------------------------------------------------


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random("|".join([str(seed), *map(str, parts)]))


def seed_of(*parts: object) -> int:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class VecRng:
    """Vectorised, seeded randomness for ``n`` rows: polars' seeded hash of the row index
    (stable within one polars version). Each ``stream`` name is an independent stream."""

    def __init__(self, n: int, *key: object) -> None:
        self.n = n
        self.key = key
        self._idx = pl.int_range(0, n, eager=True, dtype=pl.UInt64)

    def bits(self, stream: str) -> pl.Series:
        return self._idx.hash(seed_of(*self.key, stream))

    def uniform(self, stream: str) -> pl.Series:
        return (self.bits(stream) // 2048).cast(pl.Float64) / float(2**53)

    def integers(self, stream: str, low: int, high: int) -> pl.Series:
        """Uniform integers in [low, high]."""
        return (self.bits(stream) % (high - low + 1)).cast(pl.Int64) + low

    def choice(self, stream: str, values: Sequence[str], weights: Sequence[float] | None = None) -> pl.Series:
        cum = list(accumulate(weights if weights is not None else [1.0] * len(values)))
        u = self.uniform(stream) * cum[-1]
        idx = pl.Series(cum, dtype=pl.Float64).search_sorted(u, side="right").clip(0, len(values) - 1)
        return pl.Series(list(values), dtype=pl.String).gather(idx)


def day_int(d: date) -> int:
    return (d - EPOCH).days


def rand_date(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randint(0, max((hi - lo).days, 0)))


def rand_workday(rng: random.Random, lo: date, hi: date) -> date:
    d = rand_date(rng, lo, hi)
    while d.weekday() >= 5 and d > lo:
        d -= timedelta(days=1)
    return d


def month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def date_in_months(rng: random.Random, month_weights: dict[int, float]) -> date:
    month = rng.choices(list(month_weights), list(month_weights.values()))[0]
    return rand_workday(rng, date(YEAR, month, 1), month_end(YEAR, month))


def quota_split(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return out


def money(yuan: float) -> int:
    """Yuan to integer cents."""
    return round(yuan * 100)


# --- vocabularies -----------------------------------------------------------------------

SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
SURNAME_WEIGHTS = tuple(max(1.0, 80.0 / (i + 4)) for i in range(len(SURNAMES)))
MALE_CHARS = tuple("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林洋志峰建国庆东海亮成")
FEMALE_CHARS = tuple("芳娜敏静丽艳娟霞秀英慧莉婷雪琳晶燕玲倩颖洁梅红云兰萍佳琪欣悦璐雯丹蕾")
NEUTRAL_CHARS = tuple("文晓子春新嘉一思雨晨天立博建小")

REGIONS = (
    "110101", "110102", "110105", "110106", "110108", "110111", "110112", "110114", "110115",
    "110228", "120101", "130102", "130682", "131082", "130424", "140105", "152502", "210102",
    "220102", "230102", "320102", "342401", "370102", "372901", "410102", "411323", "420102",
    "430102", "510104", "610102",
)
REGION_WEIGHTS = (45, 6, 5, 3, 4, 1.5, 2, 1.5, 1.5, 0.5) + (1.0,) * 20

BRAND_WORDS = (
    "东方", "华夏", "金桥", "天坛", "长城", "京华", "燕京", "东单", "崇文", "雍和", "新世纪",
    "国安", "信达", "恒信", "宏达", "鑫源", "瑞丰", "嘉禾", "永昌", "隆盛", "正德", "泰和",
    "祥云", "福瑞", "明德", "中联", "鼎盛", "博雅", "天成", "安泰", "汇通", "卓越", "北辰",
    "同仁", "万通", "和信", "兴业", "广源", "华泰", "金鼎",
)
BRAND_CHARS = tuple("华东方金鑫恒瑞通达盛泰丰源宏兴嘉信安和德隆祥福永昌明新天中正誉佳美利汇鼎创联合远卓凯京燕博雅春晖锦程亿")

INDUSTRY_WEIGHTS: dict[str, float] = {
    "A": 0.3, "C": 3, "D": 0.5, "E": 4, "F": 22, "G": 4, "H": 12, "I": 8, "J": 5, "K": 6,
    "L": 12, "M": 5, "N": 2, "O": 5, "P": 4, "Q": 3, "R": 3, "S": 1.5,
}
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "A": ("园林绿化", "花卉"),
    "C": ("印刷", "食品", "服装", "工艺美术", "制药"),
    "D": ("热力", "燃气"),
    "E": ("建筑工程", "装饰工程", "建设"),
    "F": ("商贸", "百货", "贸易", "超市", "医药连锁", "商业"),
    "G": ("物流", "运输", "快递", "出租汽车"),
    "H": ("餐饮", "酒店管理", "饭店", "烤鸭店", "餐饮管理"),
    "I": ("科技", "信息技术", "网络科技", "软件"),
    "J": ("投资", "资产管理", "保险代理"),
    "K": ("置业", "物业管理", "房地产经纪"),
    "L": ("商务服务", "企业管理咨询", "广告", "人力资源", "会展服务"),
    "M": ("技术研究", "工程设计", "检测"),
    "N": ("环境卫生", "清洁服务"),
    "O": ("家政服务", "美容美发", "洗衣", "修脚"),
    "P": ("培训学校", "教育咨询"),
    "Q": ("医院", "诊所", "医疗管理"),
    "R": ("文化传媒", "文化发展", "体育", "出版"),
    "S": ("社区服务",),
}
OWNERSHIP_WEIGHTS: dict[str, float] = {
    "私营": 55, "国有": 12, "集体": 4, "外资": 5, "港澳台": 3, "事业单位": 8, "机关": 3,
    "社会组织": 6, "其他": 4,
}
INSTITUTION_WORDS = ("服务中心", "管理所", "研究所", "培训中心", "卫生服务中心", "文化中心")
AGENCY_WORDS = ("城市管理办公室", "社区服务中心", "市场监督管理所", "人力社保所", "司法所", "房管所")
ASSOCIATION_WORDS = ("协会", "商会", "促进会", "志愿者协会", "养老服务中心")
OTHER_REGIONS = ("110102", "110105", "110108", "110000")

LECTURE_TOPICS = (
    "劳模精神进社区", "弘扬劳模精神", "践行社会主义核心价值观", "京津冀协同发展与职工",
    "非首都功能疏解政策解读", "劳动法律法规解读", "安全生产知识", "职业发展规划",
    "职工心理健康", "传统文化讲座", "女职工权益保护", "职工理财知识",
)
COURSE_TOPICS = (
    "心理健康", "职场礼仪", "办公软件应用", "法律常识", "健康养生", "家庭理财", "沟通技巧",
    "摄影基础", "书法入门", "消防安全", "急救常识", "网络安全", "劳动合同法", "工伤保险知识",
)
CONTEST_TITLES = (
    "修脚师职业技能大赛", "锁具修理工技能大赛", "临床医学技能竞赛", "中式烹饪技能大赛",
    "餐厅服务员技能大赛", "美容美发技能大赛",
)
TRAINING_TITLES = ("中式烹饪高级技师培训班", "餐厅服务员高级技师培训班")
REMARKS = ("已核实", "补录", "新增", "信息变更", "待核实")


def person_name(rng: random.Random, male: bool) -> str:
    pool = MALE_CHARS if male else FEMALE_CHARS
    given = rng.choice(pool)
    if rng.random() < 0.7:
        given = rng.choice(pool + NEUTRAL_CHARS) + given
    return rng.choices(SURNAMES, SURNAME_WEIGHTS)[0] + given


@dataclass
class NameBook:
    """Keeps employer names and credit codes unique across the district."""

    names: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)

    def unique_name(self, make: Callable[[], str]) -> str:
        for _ in range(30):
            name = make()
            if name not in self.names:
                self.names.add(name)
                return name
        base = make()
        n = 2
        while f"{base}第{n}分公司" in self.names:
            n += 1
        self.names.add(f"{base}第{n}分公司")
        return f"{base}第{n}分公司"

    def unique_code(self, prefix8: str, rng: random.Random) -> str:
        while True:
            code = make_uscc(prefix8, rng)
            if code not in self.codes:
                self.codes.add(code)
                return code


def _brand(rng: random.Random) -> str:
    if rng.random() < 0.35:
        return rng.choice(BRAND_WORDS)
    a, b = rng.sample(BRAND_CHARS, 2)
    return a + b


def employer_name(rng: random.Random, industry: str, ownership: str, street: Street) -> str:
    brand, biz = _brand(rng), rng.choice(INDUSTRY_WORDS[industry])
    match ownership:
        case "事业单位":
            return f"北京市东城区{brand}{rng.choice(INSTITUTION_WORDS)}"
        case "机关":
            return f"{street.name}{brand}{rng.choice(AGENCY_WORDS)}"
        case "社会组织":
            return f"北京市东城区{brand}{biz}{rng.choice(ASSOCIATION_WORDS)}"
        case "外资" | "港澳台":
            return f"{brand}{biz}（北京）有限公司"
        case "集体":
            return f"北京市东城区{brand}{biz}服务社"
        case "国有":
            return f"北京{brand}{biz}{rng.choice(('集团有限公司', '有限公司', '有限责任公司'))}"
    return f"北京{brand}{biz}{rng.choice(('有限公司', '有限公司', '有限责任公司', '股份有限公司'))}"


def credit_prefix(rng: random.Random, ownership: str) -> str:
    kind = {"事业单位": "12", "机关": "11", "社会组织": rng.choice(("51", "52"))}.get(ownership, "91")
    region = "110101" if rng.random() < 0.85 else rng.choice(OTHER_REGIONS)
    return kind + region


# --- street profiles --------------------------------------------------------------------

FORMAT_HABITS = ("csv", "csv-bom", "csv-gbk", "xlsx", "jsonl")
FORMAT_HABIT_WEIGHTS = (0.35, 0.2, 0.2, 0.2, 0.05)
DIRECTOR_MODES = ("all_year", "appointed_h2", "left", "none")


@dataclass(frozen=True)
class StreetProfile:
    street: Street
    index: int
    n_orgs: int
    n_members: int
    mediation_rate: float  # DC05
    legal_rate: float  # DC06
    jingka_rate: float  # DC15 at the first snapshot; rises each quarter
    success_base: float  # DC13 in Q1; rises each quarter
    director: str  # one of DIRECTOR_MODES (DC11)
    format_habit: str
    lawyer_once_months: tuple[int, ...]  # months with a single 律师志愿服务 (DC12)

    @property
    def short(self) -> str:
        return self.street.code[-3:]


def _director_modes(n: int, rng: random.Random) -> list[str]:
    """Most streets have a full-time collective-bargaining instructor all year; a few get
    one in H2, one loses theirs, one has none (so DC11 is not trivially 100%)."""
    modes = ["all_year"] * n
    if n >= 4:
        special = ["appointed_h2"] * max(1, round(n * 0.18)) + ["left"] * max(1, round(n * 0.06))
        special += ["none"] * max(1, round(n * 0.06))
        modes = ["all_year"] * (n - len(special)) + special
    rng.shuffle(modes)
    return modes


def make_profiles(seed: int, scale: float, streets: Sequence[Street] = STREETS) -> list[StreetProfile]:
    rng = rng_for(seed, "profiles")
    modes = _director_modes(len(streets), rng)
    out = []
    for i, street in enumerate(streets):
        r = rng_for(seed, "profile", street.code)
        out.append(
            StreetProfile(
                street=street,
                index=i,
                n_orgs=max(3, round(r.uniform(40, 120) * scale)),
                n_members=max(12, round(r.uniform(1500, 3000) * scale)),
                mediation_rate=r.uniform(0.9, 1.0),
                legal_rate=r.uniform(0.9, 1.0),
                jingka_rate=r.uniform(0.5, 0.8),
                success_base=r.uniform(0.52, 0.68),
                director=modes[i],
                format_habit=r.choices(FORMAT_HABITS, FORMAT_HABIT_WEIGHTS)[0],
                lawyer_once_months=tuple(sorted(r.sample(range(1, 13), r.choice((0, 0, 1, 1, 1, 2, 3))))),
            )
        )
    return out


# --- union organisations ----------------------------------------------------------------------


@dataclass
class Org:
    org_id: str
    org_name: str
    employer_name: str
    credit_code: str
    industry: str
    ownership: str
    employees: list[int]  # one value per snapshot
    member_ratio: float
    founded: date
    legal_person: bool
    union_credit_code: str | None
    mediation: bool
    congress: bool
    open_affairs: bool
    model: bool
    closure: date | None = None
    closure_status: str | None = None
    drop_after_closure: bool = False

    def status_at(self, d: date) -> str:
        if self.closure is not None and self.closure <= d:
            return self.closure_status or "注销"
        return "正常"

    def listed_in(self, k: int) -> bool:
        """Is the org on the street's list in snapshot ``k``?"""
        if self.founded > SNAPSHOT_DATES[k]:
            return False
        if self.closure is None or not self.drop_after_closure or self.closure > YEAR_END:
            return True
        first = next(j for j, d in enumerate(SNAPSHOT_DATES) if self.closure <= d)
        return k <= first  # listed once with its new status, then dropped

    def members_at(self, k: int) -> int:
        e = self.employees[k]
        return max(1, min(e, round(e * self.member_ratio))) if e else 0

    @property
    def active_at_year_end(self) -> bool:
        return self.status_at(YEAR_END) == "正常" and self.founded <= YEAR_END


def _employees(rng: random.Random) -> int:
    bands = ((5, 19), (20, 49), (50, 99), (100, 299), (300, 999), (1000, 3000))
    lo, hi = rng.choices(bands, (35, 25, 22, 12, 5, 1))[0]
    return rng.randint(lo, hi)


def _employees_step(rng: random.Random, e: int) -> int:
    """A quarter's natural change: small enough never to look like a mass layoff (W07)."""
    u = rng.random()
    if u < 0.6:
        return e
    if u < 0.85:
        return e + rng.randint(1, max(1, e // 20))
    max_fall = min(19, -(-e // 10) - 1)  # strictly below 10 % and below 20 people
    return e - rng.randint(0, max(0, max_fall))


def _quota_flags(rng: random.Random, n: int, rate: float) -> list[bool]:
    flags = [True] * n
    for i in rng.sample(range(n), min(n, round(n * (1 - rate)))):
        flags[i] = False
    return flags


def make_orgs(profile: StreetProfile, seed: int, book: NameBook) -> list[Org]:
    rng = rng_for(seed, "orgs", profile.street.code)
    n_old = profile.n_orgs
    n_new = max(1, round(n_old * 0.05))
    n = n_old + n_new
    legal = _quota_flags(rng, n, profile.legal_rate)
    mediation = _quota_flags(rng, n, profile.mediation_rate)
    orgs = []
    for i in range(n):
        industry = rng.choices(list(INDUSTRY_WEIGHTS), list(INDUSTRY_WEIGHTS.values()))[0]
        ownership = rng.choices(list(OWNERSHIP_WEIGHTS), list(OWNERSHIP_WEIGHTS.values()))[0]
        name = book.unique_name(lambda ind=industry, own=ownership: employer_name(rng, ind, own, profile.street))
        e0 = _employees(rng)
        e1 = _employees_step(rng, e0)
        founded = (
            rand_date(rng, date(1985, 1, 1), date(2015, 5, 31))
            if i < n_old and rng.random() < 0.97
            else rand_date(rng, date(1995, 1, 1), date(2015, 5, 31))
        )
        if i >= n_old:  # 深入开展建会工作: new unions founded in H2
            founded = rand_date(rng, date(2015, 7, 1), date(2015, 12, 15))
        orgs.append(
            Org(
                org_id=f"GH{profile.short}{i + 1:05d}",
                org_name=name + ("工会委员会" if rng.random() < 0.7 else "工会"),
                employer_name=name,
                credit_code=book.unique_code(credit_prefix(rng, ownership), rng),
                industry=industry,
                ownership=ownership,
                employees=[e0, e1, _employees_step(rng, e1)],
                member_ratio=rng.uniform(0.6, 1.0),
                founded=founded,
                legal_person=legal[i],
                union_credit_code=book.unique_code("81110101", rng) if legal[i] else None,
                mediation=mediation[i],
                congress=rng.random() < 0.82,
                open_affairs=rng.random() < 0.78,
                model=rng.random() < (0.6 if e0 >= 100 else 0.02),
            )
        )
    _close_some(orgs[:n_old], rng)
    return orgs


CLOSING_MAX_EMPLOYEES = 99  # W06 warns from 100 employees: natural closures stay below


def _close_some(orgs: list[Org], rng: random.Random) -> None:
    """非首都功能疏解: a few small unions move out, are dissolved or merge during the
    year (larger departures are planted W06 signals)."""
    windows = ((date(2015, 1, 10), date(2015, 6, 25)), (date(2015, 7, 1), date(2015, 9, 25)),
               (date(2015, 10, 1), date(2015, 12, 20)))
    for org in orgs:
        for lo, hi in windows:
            if org.closure is None and rng.random() < 0.02 and max(org.employees) <= CLOSING_MAX_EMPLOYEES:
                org.closure = rand_date(rng, lo, hi)
                org.closure_status = rng.choices(("迁出", "注销", "合并"), (6, 3, 1))[0]
                org.drop_after_closure = rng.random() < 0.5


def org_snapshot_rows(orgs: Sequence[Org], k: int, street_code: str) -> list[dict]:
    as_of = SNAPSHOT_DATES[k]
    return [
        {
            "org_id": o.org_id,
            "org_name": o.org_name,
            "employer_name": o.employer_name,
            "credit_code": o.credit_code,
            "street_code": street_code,
            "industry": o.industry,
            "ownership": o.ownership,
            "employees": o.employees[k],
            "members": o.members_at(k),
            "founded_date": o.founded,
            "legal_person_registered": o.legal_person,
            "union_credit_code": o.union_credit_code,
            "has_mediation_committee": o.mediation,
            "has_workers_congress": o.congress,
            "factory_affairs_open": o.open_affairs,
            "is_model_enterprise": o.model,
            "status": o.status_at(as_of),
            "as_of_date": as_of,
        }
        for o in orgs
        if o.listed_in(k)
    ]


# --- members (vectorised) -------------------------------------------------------------------


@dataclass(frozen=True)
class OrgPool:
    """What member generation needs to know about a street's orgs."""

    org_ids: list[str]
    weights: list[float]
    founded: list[date]
    closure: list[date | None]
    stable: list[int]  # indices of orgs members may move to (old, never closing)

    @classmethod
    def from_orgs(cls, orgs: Sequence[Org]) -> OrgPool:
        return cls(
            org_ids=[o.org_id for o in orgs],
            weights=[float(o.employees[0]) for o in orgs],
            founded=[o.founded for o in orgs],
            closure=[o.closure for o in orgs],
            stable=[i for i, o in enumerate(orgs) if o.closure is None and o.founded < SNAPSHOT_DATES[0]]
            or [0],
        )


ID_PARTITIONS = 17  # digits 15-17 are split between streets: two streets never share an ID


def _draw_identity(r: VecRng, wide: bool = False) -> pl.DataFrame:
    """Gender, region (index into REGIONS) and birth day (1955-1997, centred on the
    1970s-80s). ``wide`` spreads regions evenly (used when redrawing crowded groups)."""
    lo = day_int(date(1955, 1, 1))
    span = day_int(date(1997, 12, 31)) - lo
    tri = (r.uniform("b1") + r.uniform("b2")) / 2
    mix = pl.select(pl.when(pl.lit(r.uniform("bmix")) < 0.5).then(pl.lit(tri)).otherwise(pl.lit(r.uniform("b3")))).to_series()
    cum = list(accumulate([1.0] * len(REGIONS) if wide else REGION_WEIGHTS))
    region = pl.Series(cum, dtype=pl.Float64).search_sorted(r.uniform("r") * cum[-1], side="right").clip(0, len(REGIONS) - 1)
    return pl.DataFrame({
        "male": r.uniform("male") < 0.52,
        "region_i": region.cast(pl.Int64),
        "birth_i": (mix * span).cast(pl.Int64) + lo,
    })


def _digit_sum(value: pl.Expr, weights: Sequence[int]) -> pl.Expr:
    """Weighted sum of the decimal digits of ``value`` (most significant first)."""
    n = len(weights)
    return sum(((value // 10 ** (n - 1 - i)) % 10) * w for i, w in enumerate(weights))


def _identities(n: int, key: tuple, street_index: int, partitions: int = ID_PARTITIONS) -> pl.DataFrame:
    """Unique resident IDs by construction: the k-th person of a (region, birth date,
    gender) group gets sequence number k (rotated per group, spread over the street's
    share of the 500 sequence numbers). Rows beyond a group's capacity are redrawn."""
    cap = 500 // partitions
    frame = _draw_identity(VecRng(n, *key, "identity"))
    group = (pl.col("region_i") * 2**16 + pl.col("birth_i") - day_int(date(1955, 1, 1))) * 2 + pl.col("male").cast(pl.Int64)
    for attempt in range(1, 100):
        frame = frame.with_columns(group=group)
        rank = frame.select(pl.int_range(pl.len()).over("group")).to_series()
        over = (rank >= cap).arg_true()
        if over.len() == 0:
            break
        fresh = _draw_identity(VecRng(over.len(), *key, "identity", attempt), wide=True)
        frame = pl.DataFrame({c: frame[c].clone().scatter(over, fresh[c]) for c in fresh.columns})
    else:
        raise RuntimeError("could not draw unique resident ID numbers")
    rot = (pl.col("group").hash(seed_of(*key, "rotate")) % cap).cast(pl.Int64)
    j = ((pl.lit(rank).cast(pl.Int64) + rot) % cap) * partitions + street_index % partitions
    birth = pl.col("birth_i").cast(pl.Int32).cast(pl.Date)
    ymd = birth.dt.year().cast(pl.Int64) * 10_000 + birth.dt.month().cast(pl.Int64) * 100 + birth.dt.day().cast(pl.Int64)
    region_sums = pl.Series([sum(int(c) * w for c, w in zip(r, ID_WEIGHTS, strict=False)) for r in REGIONS])
    frame = frame.with_columns(ymd=ymd, seq=(j // 5) * 10 + (j % 5) * 2 + pl.col("male").cast(pl.Int64))
    total = pl.lit(region_sums).gather(pl.col("region_i")) + _digit_sum(pl.col("ymd"), ID_WEIGHTS[6:14])
    total = total + _digit_sum(pl.col("seq"), ID_WEIGHTS[14:17])
    ident = pl.concat_str([
        pl.lit(pl.Series(REGIONS)).gather(pl.col("region_i")), pl.col("ymd").cast(pl.String),
        pl.col("seq").cast(pl.String).str.zfill(3),
        (total % 11).replace_strict(dict(enumerate(ID_CHECK)), return_dtype=pl.String),
    ])
    return frame.select("male", birth.alias("birth"), ident.alias("id_number"))


def _names(r: VecRng, male: pl.Series) -> pl.Series:
    sur = r.choice("sur", SURNAMES, SURNAME_WEIGHTS)
    g1 = pl.select(pl.when(pl.lit(male)).then(pl.lit(r.choice("gm", MALE_CHARS)))
                   .otherwise(pl.lit(r.choice("gf", FEMALE_CHARS)))).to_series()
    g0 = pl.select(pl.when(pl.lit(r.uniform("two") < 0.7)).then(pl.lit(r.choice("g0", MALE_CHARS + FEMALE_CHARS + NEUTRAL_CHARS)))
                   .otherwise(pl.lit(""))).to_series()
    return pl.select(pl.concat_str([pl.lit(sur), pl.lit(g0), pl.lit(g1)])).to_series()


def _phones(r: VecRng) -> pl.Series:
    kind = r.uniform("phone")
    mobile = pl.concat_str([pl.lit("1"), pl.lit(r.choice("p2", tuple("3456789"), (30, 10, 18, 4, 6, 25, 7))),
                            pl.lit(r.integers("p9", 0, 999_999_999).cast(pl.String)).str.zfill(9)])
    land = pl.concat_str([pl.lit("010-"), pl.lit(r.choice("l1", ("5", "6", "8"))),
                          pl.lit(r.integers("l7", 0, 9_999_999).cast(pl.String)).str.zfill(7)])
    k = pl.lit(kind)
    return pl.select(pl.when(k < 0.85).then(mobile).when(k < 0.93).then(land)).to_series()


def _dates(days: pl.Expr) -> pl.Expr:
    return days.cast(pl.Int32).cast(pl.Date)


def member_population(
    n: int, key: tuple, street_index: int, short: str, pool: OrgPool, *, churn: bool = True,
    partitions: int = ID_PARTITIONS,
) -> pl.DataFrame:
    """Everyone who is on the street's member list at some point of the year, with the
    dates that decide each snapshot: join, leave (and how), move to another org."""
    r = VecRng(n, *key)
    ident = _identities(n, key, street_index, partitions)
    cum = list(accumulate(pool.weights))
    org_idx = pl.Series(cum, dtype=pl.Float64).search_sorted(r.uniform("org") * cum[-1], side="right").clip(0, len(cum) - 1)
    stable = pl.Series(pool.stable, dtype=pl.Int64).gather(r.integers("mv", 0, len(pool.stable) - 1))
    df = ident.with_columns(
        member_id=pl.concat_str([pl.lit("M" + short), (pl.int_range(1, n + 1)).cast(pl.String).str.zfill(7)]),
        name=pl.lit(_names(r, ident["male"])),
        phone=pl.lit(_phones(r)),
        org_i=pl.lit(org_idx.cast(pl.Int64)),
        org2_i=pl.lit(stable),
        u_join=pl.lit(r.uniform("join")),
        joiner=pl.lit(r.uniform("joiner") < (0.1 if churn else 0.0)),
        u_leave=pl.lit(r.uniform("leave")),
        leaver=pl.lit(r.uniform("leaver") < (0.09 if churn else 0.0)),
        leave_kind=pl.lit(r.choice("lk", ("转出", "退会", "去世"), (50, 47, 3))),
        visible=pl.lit(r.uniform("vis") < 0.5),
        mover=pl.lit(r.uniform("mover") < (0.03 if churn else 0.0)),
        u_move=pl.lit(r.uniform("umove")),
        u_close=pl.lit(r.integers("uclose", 0, 10)),
        worker_type=pl.lit(r.choice("wt", WORKER_TYPE, (70, 10, 10, 5, 5))),
        jingka_u=pl.lit(r.uniform("jk")),
        model_worker=pl.lit(r.choice("mw", ("无", "区级", "市级", "全国"), (99.6, 0.3, 0.09, 0.01))),
        show_birth=pl.lit(r.uniform("sb") < 0.88),
    )
    founded = pl.Series([day_int(d) for d in pool.founded], dtype=pl.Int64)
    closure = pl.Series([day_int(d) if d else None for d in pool.closure], dtype=pl.Int64)
    df = df.with_columns(
        founded_i=pl.lit(founded.gather(df["org_i"])),
        closure_i=pl.lit(closure.gather(df["org_i"])),
        org1=pl.lit(pl.Series(pool.org_ids).gather(df["org_i"])),
        org2=pl.lit(pl.Series(pool.org_ids).gather(df["org2_i"])),
    )
    return _member_dates(df)


def _member_dates(df: pl.DataFrame) -> pl.DataFrame:
    y0, y1, pre = day_int(YEAR_START), day_int(YEAR_END), day_int(date(2014, 12, 31))
    adult = (pl.col("birth").dt.offset_by("16y").cast(pl.Int32).cast(pl.Int64) + 2)
    lower = pl.max_horizontal(adult, pl.col("founded_i"))
    lo = pl.when(pl.col("joiner")).then(pl.max_horizontal(lower, pl.lit(y0))).otherwise(lower)
    hi = pl.when(pl.col("joiner") | (lower > pre)).then(pl.lit(y1)).otherwise(pl.lit(pre))
    df = df.with_columns(join_i=(lo + (pl.col("u_join") * (hi - lo + 1)).floor().cast(pl.Int64)).clip(upper_bound=y1))
    leave_lo = pl.max_horizontal(pl.col("join_i") + 30, pl.lit(y0))
    leave = pl.when(pl.col("leaver") & (leave_lo <= y1)).then(
        leave_lo + (pl.col("u_leave") * (y1 - leave_lo + 1)).floor().cast(pl.Int64)
    )
    closed = pl.col("closure_i") + pl.col("u_close")
    by_closure = pl.col("closure_i").is_not_null() & (leave.is_null() | (closed < leave))
    df = df.with_columns(  # members of a closed union transfer out and drop off the list
        leave_i=pl.when(by_closure).then(closed).otherwise(leave),
        leave_kind=pl.when(by_closure).then(pl.lit("转出")).otherwise(pl.col("leave_kind")),
        visible=pl.col("visible") & ~by_closure,
    )
    move_lo = pl.max_horizontal(pl.col("join_i") + 1, pl.lit(day_int(date(2015, 7, 1))))
    move = move_lo + (pl.col("u_move") * (day_int(date(2015, 12, 20)) - move_lo + 1)).floor().cast(pl.Int64)
    do_move = pl.col("mover") & (pl.col("org2_i") != pl.col("org_i")) & (move <= day_int(date(2015, 12, 20)))
    df = df.with_columns(move_i=pl.when(do_move).then(move))
    df = df.filter(pl.col("leave_i").is_null() | (pl.col("leave_i") > pl.col("join_i")))
    return df.select(
        "member_id", "name", "id_number", "male", "birth", "show_birth", "phone", "org1", "org2",
        _dates(pl.col("move_i")).alias("move_date"), _dates(pl.col("join_i")).alias("join_date"),
        _dates(pl.col("leave_i")).alias("leave_date"), "leave_kind", "visible", "worker_type",
        "jingka_u", "model_worker",
    )


def member_snapshot(pop: pl.DataFrame, as_of: date, jingka_rate: float, street_code: str) -> pl.DataFrame:
    """The street's member list as of ``as_of``, typed, in contract column order."""
    s = pl.lit(as_of)
    left = pl.col("leave_date").is_not_null() & (pl.col("leave_date") <= s)
    return pop.filter((pl.col("join_date") <= s) & (~left | pl.col("visible"))).select(
        "member_id",
        "name",
        "id_number",
        pl.when(pl.col("male")).then(pl.lit("男")).otherwise(pl.lit("女")).alias("gender"),
        pl.when(pl.col("show_birth")).then(pl.col("birth")).alias("birth_date"),
        "phone",
        pl.when(pl.col("move_date").is_not_null() & (pl.col("move_date") <= s))
        .then(pl.col("org2")).otherwise(pl.col("org1")).alias("org_id"),
        pl.lit(street_code).alias("street_code"),
        "join_date",
        pl.when(left).then(pl.col("leave_kind")).otherwise(pl.lit("在会")).alias("status"),
        "worker_type",
        (pl.col("jingka_u") < jingka_rate).alias("jingka_issued"),
        "model_worker",
        s.alias("as_of_date"),
    )


# --- street staff ---------------------------------------------------------------------------


@dataclass
class Staff:
    staff_id: str
    name: str
    role: str
    appointed: date
    first_k: int = 0  # first snapshot listing them
    inactive_k: int | None = None  # from this snapshot on, 在岗 = 否


def make_staff(profile: StreetProfile, seed: int) -> list[Staff]:
    rng = rng_for(seed, "staff", profile.street.code)
    roles = ["工会专干"] * rng.randint(2, 4) + ["联络员"] * rng.randint(1, 3) + ["其他"] * rng.randint(0, 1)
    staff = [Staff("", person_name(rng, rng.random() < 0.4), role, rand_date(rng, date(2005, 1, 1), date(2015, 3, 31)))
             for role in roles]
    if rng.random() < 0.4:
        rng.choice(staff).inactive_k = rng.randint(1, 2)
    director = Staff("", person_name(rng, rng.random() < 0.6), "集体协商专职指导员",
                     rand_date(rng, date(2011, 1, 1), date(2014, 12, 31)))
    match profile.director:
        case "all_year":
            staff.append(director)
        case "appointed_h2":
            director.first_k = rng.randint(1, 2)
            director.appointed = rand_date(rng, date(2015, 7, 1), SNAPSHOT_DATES[director.first_k])
            staff.append(director)
        case "left":
            director.inactive_k = rng.randint(1, 2)
            staff.append(director)
    for i, s in enumerate(staff):
        s.staff_id = f"ST{profile.short}{i + 1:03d}"
    return staff


def staff_snapshot_rows(staff: Sequence[Staff], k: int, street_code: str) -> list[dict]:
    return [
        {
            "staff_id": s.staff_id,
            "name": s.name,
            "role": s.role,
            "appointed_date": s.appointed,
            "active": s.inactive_k is None or k < s.inactive_k,
            "street_code": street_code,
            "as_of_date": SNAPSHOT_DATES[k],
        }
        for s in staff
        if s.first_k <= k
    ]


# --- event records ----------------------------------------------------------------------------


@dataclass
class EventRecord:
    """One record (keyed) and its successive states: ``(effective date, full row)``.
    A period's file carries every record with a state in the period, as last known at
    the period's end; so a case appears as 受理 in one file and 调解成功 in a later one."""

    key: str
    versions: list[tuple[date, dict]]


def event(key: str, when: date, row: dict) -> EventRecord:
    return EventRecord(key, [(max(when, YEAR_START), row)])


def rows_in_period(records: Sequence[EventRecord], start: date, end: date) -> list[dict]:
    out = []
    for rec in sorted(records, key=lambda r: (r.versions[0][0], r.key)):
        if any(start <= d <= end for d, _ in rec.versions):
            out.append([row for d, row in rec.versions if d <= end][-1])
    return out


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


@dataclass(frozen=True)
class Employer:
    name: str
    credit_code: str | None
    org_id: str | None


class Cycler:
    """Hands out employers without repetition (until the pool is exhausted), so natural
    data does not pile cases on one employer (that is a planted W02 signal's job)."""

    def __init__(self, items: list[Employer]) -> None:
        self.items = items
        self.i = 0

    def next(self) -> Employer:
        item = self.items[self.i % len(self.items)]
        self.i += 1
        return item


def employer_pool(orgs: Sequence[Org], n_extra: int, rng: random.Random, book: NameBook,
                  street: Street) -> Cycler:
    items = [Employer(o.employer_name, o.credit_code, o.org_id) for o in orgs
             if o.founded < YEAR_START and o.closure is None]
    for _ in range(n_extra):  # small employers without a union
        industry = rng.choice(("F", "H", "L", "O", "E", "G", "N"))
        name = book.unique_name(lambda ind=industry: employer_name(rng, ind, "私营", street))
        code = book.unique_code(credit_prefix(rng, "私营"), rng) if rng.random() < 0.8 else None
        items.append(Employer(name, code, None))
    rng.shuffle(items)
    return Cycler(items)


# collective contracts ---------------------------------------------------------------------


CONTRACT_STATES = ("std", "nonstd", "none")
# Natural contracts are all renewed in time (an unrenewed one is a planted W04 signal):
# none may end between the year end and 30 days after it (W04's horizon as of 2015-12-31).
EARLIEST_START = {1: date(2015, 2, 1), 2: date(2014, 2, 1), 3: date(2013, 2, 1)}  # by term (years)


def _contract_state(org: Org, rng: random.Random) -> str:
    e = org.employees[-1]
    if e >= 100 and org.model:  # DC04: ~60 % standardised coverage at year end
        return rng.choices(CONTRACT_STATES, (68, 10, 22))[0]
    if e >= 25:
        return rng.choices(CONTRACT_STATES, (15, 20, 65))[0]
    return "regional" if rng.random() < 0.12 else "none"


def _contract_type(org: Org, state: str, profile: StreetProfile, rng: random.Random) -> str:
    if state == "regional":
        industry_wide = profile.street.name in ("东花市街道", "龙潭街道") and org.industry in ("O", "H", "F")
        return "行业性" if industry_wide or rng.random() < 0.3 else "区域性"
    return rng.choices(("综合性", "工资专项", "女职工专项"), (60, 28, 12))[0]


def _contract_row(cid: str, org: Org, street_code: str, ctype: str, signed: date, start: date,
                  end: date, std: bool, renews: str | None, rng: random.Random) -> dict:
    pct = None
    if ctype in ("综合性", "工资专项") and rng.random() < 0.92:
        pct = -15 if rng.random() < 0.01 else rng.randint(25, 120)
    return {
        "contract_id": cid, "org_id": org.org_id, "street_code": street_code,
        "contract_type": ctype, "signed_date": signed, "start_date": start, "end_date": end,
        "employees_covered": max(1, org.employees[0 if start.year < YEAR else -1] - rng.randint(0, 3)),
        "wage_increase_pct": pct, "standardized": std, "renews_contract_id": renews,
    }


def _contract_chain(org: Org, state: str, profile: StreetProfile, rng: random.Random,
                    next_id: Callable[[date], str]) -> list[EventRecord]:
    code = profile.street.code
    ctype = _contract_type(org, state, profile, rng)
    term = 1 if ctype == "工资专项" else rng.choices((3, 2), (8, 2))[0]
    start = rand_date(rng, EARLIEST_START[term], date(2015, 12, 20))
    end = add_years(start, term) - timedelta(days=1)
    std = state == "std" or (state == "regional" and rng.random() < 0.2)
    out: list[EventRecord] = []
    renews = None
    signed = start - timedelta(days=rng.randint(0, 20))
    if start.year == YEAR and rng.random() < 0.7:  # a renewal of a contract ending in 2015
        if rng.random() < 0.4:  # renewed a little after the old one ended
            prev_end, signed = start - timedelta(days=rng.randint(1, 25)), start
        else:
            prev_end, signed = start - timedelta(days=1), start - timedelta(days=rng.randint(3, 25))
        prev_start = add_years(prev_end + timedelta(days=1), -term)
        prev_signed = prev_start - timedelta(days=rng.randint(0, 20))
        prev = _contract_row(next_id(prev_signed), org, code, ctype, prev_signed, prev_start, prev_end,
                             rng.random() < 0.5, None, rng)
        out.append(event(prev["contract_id"], prev_signed, prev))
        renews = prev["contract_id"]
    row = _contract_row(next_id(signed), org, code, ctype, signed, start, end, std, renews, rng)
    out.append(event(row["contract_id"], signed, row))
    return out


def make_contracts(profile: StreetProfile, orgs: Sequence[Org], seed: int) -> list[EventRecord]:
    rng = rng_for(seed, "contracts", profile.street.code)
    counter = iter(range(1, 10**7))

    def next_id(signed: date) -> str:
        return f"HT{profile.short}-{signed.year}-{next(counter):05d}"

    eligible = [o for o in orgs if o.active_at_year_end and o.founded < SNAPSHOT_DATES[0]]
    out: list[EventRecord] = []
    for org in eligible:
        state = _contract_state(org, rng)
        if state != "none":
            out += _contract_chain(org, state, profile, rng, next_id)
    if not out and eligible:
        out = _contract_chain(max(eligible, key=lambda o: o.employees[-1]), "std", profile, rng, next_id)
    return out


# dispute cases ------------------------------------------------------------------------------

CLAIM_PER_WORKER: dict[str, tuple[int, int]] = {
    "工资报酬": (3_000, 40_000), "社会保险": (2_000, 30_000), "解除劳动合同": (5_000, 60_000),
    "工伤待遇": (10_000, 150_000), "加班": (1_000, 15_000), "经济补偿": (5_000, 80_000),
    "其他": (1_000, 20_000),
}


def _dispute_outcomes(closed: Sequence[date], base: float, rng: random.Random) -> list[str]:
    """Quota per quarter of closing (not independent draws) so the success rate (DC13,
    counted by closing date) rises smoothly quarter to quarter instead of jumping with
    sampling noise (W08). Cases still open at the year end form a group of their own."""
    out = [""] * len(closed)
    for q in range(5):
        idx = [i for i, d in enumerate(closed) if ((d.month - 1) // 3 if d.year == YEAR else 4) == q]
        withdrawn = round(len(idx) * 0.08)
        rest = len(idx) - withdrawn
        success = round(rest * min(0.95, base + 0.03 * q))
        failed = rest - success
        labels = ["撤回"] * withdrawn + ["调解成功"] * success
        labels += ["调解不成" if j % 9 < 5 else "转仲裁" for j in range(failed)]
        rng.shuffle(labels)
        for i, label in zip(idx, labels, strict=True):
            out[i] = label
    return out


def _spread_workdays(rng: random.Random, n: int, lo: date, hi: date) -> list[date]:
    """``n`` workdays spread evenly over [lo, hi] (one per equal slot, jittered), so a
    street's caseload per month stays level: a surge (W03) is a planted signal's job."""
    span = (hi - lo).days + 1
    out = []
    for i in range(n):
        a, b = lo + timedelta(days=i * span // n), lo + timedelta(days=max((i + 1) * span // n - 1, i * span // n))
        out.append(rand_workday(rng, a, b))
    return sorted(out)


def _dispute_row(case_id: str, street_code: str, emp: Employer, received: date, rng: random.Random) -> dict:
    dtype = rng.choices(DISPUTE_TYPE, (35, 12, 20, 8, 8, 12, 5))[0]
    workers = rng.choices((1, rng.randint(2, 5), rng.randint(6, 9)), (70, 25, 5))[0]
    lo, hi = CLAIM_PER_WORKER[dtype]
    claimed = None
    if rng.random() < 0.9:
        claimed = money(rng.randint(lo, hi) * workers + (rng.randint(0, 99) / 100 if rng.random() < 0.3 else 0))
    return {
        "case_id": case_id, "street_code": street_code, "employer_name": emp.name,
        "credit_code": emp.credit_code if rng.random() < 0.85 else None, "org_id": emp.org_id,
        "received_date": received, "dispute_type": dtype, "workers_involved": workers,
        "amount_claimed": claimed, "status": "受理", "closed_date": None, "amount_settled": None,
    }


def make_disputes(profile: StreetProfile, pool: Cycler, seed: int) -> list[EventRecord]:
    rng = rng_for(seed, "disputes", profile.street.code)
    n = max(3, round(profile.n_orgs * rng.uniform(0.25, 0.45)))
    received = _spread_workdays(rng, n, date(2015, 1, 5), date(2015, 12, 30))
    steps = [(rng.randint(1, 3), rng.randint(3, 15)) for _ in received]  # days to 调解中, to closing
    closings = [rec + timedelta(days=c) for rec, (_, c) in zip(received, steps, strict=True)]
    outcomes = _dispute_outcomes(closings, profile.success_base, rng)
    out = []
    for i, (rec, outcome, (to_mediation, _), closed) in enumerate(zip(received, outcomes, steps, closings, strict=True)):
        row = _dispute_row(f"TJ{profile.short}-2015-{i + 1:04d}", profile.street.code, pool.next(), rec, rng)
        versions = [(rec, row)]
        mediating = rec + timedelta(days=to_mediation)
        if outcome != "撤回" and mediating <= YEAR_END:
            versions.append((mediating, {**row, "status": "调解中"}))
        if closed <= YEAR_END:
            settled = None
            if outcome == "调解成功" and row["amount_claimed"] is not None:
                settled = money(round(row["amount_claimed"] / 100 * rng.uniform(0.5, 1.0), -2))
            versions.append((closed, {**row, "status": outcome, "closed_date": closed, "amount_settled": settled}))
        out.append(EventRecord(row["case_id"], versions))
    return out


# hotline tickets ------------------------------------------------------------------------------


def make_tickets(profile: StreetProfile, pool: Cycler, seed: int) -> list[EventRecord]:
    rng = rng_for(seed, "tickets", profile.street.code)
    n = max(4, round(profile.n_orgs * rng.uniform(0.4, 0.8)))
    starts = sorted(
        datetime.combine(rand_date(rng, YEAR_START, date(2015, 12, 30)), datetime.min.time())
        + timedelta(seconds=rng.randint(8 * 3600, 20 * 3600 - 1))
        for _ in range(n)
    )
    out = []
    for i, received in enumerate(starts):
        emp = pool.next() if rng.random() < 0.8 else None
        deadline = received + timedelta(days=rng.choices((3, 5, 7, 10, 15), (1, 3, 3, 2, 1))[0])
        # Every ticket is closed, some late; none is open past its deadline at the year end
        # (W05: an overdue open ticket is a planted signal). One closed late is closed by then.
        fate = rng.choices(("ontime", "late"), (91, 9))[0]
        if fate == "late" and deadline.date() + timedelta(days=6) > YEAR_END:
            fate = "ontime"
        row = {
            "ticket_id": f"GD{profile.short}{received:%Y%m%d}{i + 1:04d}", "street_code": profile.street.code,
            "received_at": received, "category": rng.choices(TICKET_CATEGORY, (30, 20, 20, 8, 10, 12))[0],
            "employer_name": emp.name if emp else None,
            "credit_code": emp.credit_code if emp and rng.random() < 0.7 else None,
            "deadline_at": deadline, "responded_at": received + timedelta(minutes=rng.randint(10, 240)),
            "closed_at": None, "satisfied": None,
        }
        versions = [(received.date(), row)]
        span = (deadline - received).total_seconds()
        closed = (received + timedelta(seconds=span * rng.uniform(0.1, 0.95)) if fate == "ontime"
                  else deadline + timedelta(minutes=rng.randint(60, 5 * 24 * 60)))
        closed = closed.replace(microsecond=0)
        satisfied = rng.choices((True, False, None), (85, 10, 5))[0]
        if closed.date() <= YEAR_END:  # else still open at the year end, before its deadline
            versions.append((closed.date(), {**row, "closed_at": closed, "satisfied": satisfied}))
        out.append(EventRecord(row["ticket_id"], versions))
    return out


# legal services --------------------------------------------------------------------------------

LEGAL_MIX = (("菜单式法律服务", 0, 3, (5, 40)), ("法律援助申报", 0, 2, (1, 3)), ("法律咨询", 1, 5, (1, 10)))


def make_legal_services(profile: StreetProfile, seed: int) -> list[EventRecord]:
    """律师志愿服务 "一街一月两次" (DC12): twice a month, except a few months."""
    rng = rng_for(seed, "legal", profile.street.code)
    lawyers = [person_name(rng, rng.random() < 0.6) for _ in range(rng.randint(3, 6))]
    out = []
    for month in range(1, 13):
        lo, hi = date(YEAR, month, 1), month_end(YEAR, month)
        volunteer = 1 if month in profile.lawyer_once_months else rng.choices((2, 3), (9, 1))[0]
        items = [("律师志愿服务", (5, 40))] * volunteer
        for stype, kmin, kmax, people in LEGAL_MIX:
            items += [(stype, people)] * rng.randint(kmin, kmax)
        if month % 3 == 0 or rng.random() < 0.2:
            items.append(("案例大讲堂", (30, 120)))
        dated = sorted((rand_workday(rng, lo, hi), stype, people) for stype, people in items)
        for j, (d, stype, people) in enumerate(dated, start=1):
            lawyer = None if stype == "法律援助申报" or (stype == "法律咨询" and rng.random() < 0.5) else rng.choice(lawyers)
            sid = f"FW{profile.short}-{YEAR}{month:02d}-{j:02d}"
            out.append(event(sid, d, {"service_id": sid, "street_code": profile.street.code, "service_date": d,
                                      "service_type": stype, "lawyer_name": lawyer,
                                      "people_served": rng.randint(*people)}))
    return out


# training events ----------------------------------------------------------------------------

H2_MONTHS = {3: 6, 4: 7, 5: 8, 6: 8, 7: 10, 8: 9, 9: 13, 10: 13, 11: 14, 12: 12}


def make_training(profile: StreetProfile, course_people: int, lectures: int, seed: int) -> list[EventRecord]:
    """通识课程 participants and 职工大讲堂 counts follow the district's quotas (DC01, DC02)."""
    rng = rng_for(seed, "training", profile.street.code)
    items: list[tuple[str, str, str | None, int]] = []
    left = course_people
    while left > 0:
        people = min(left, rng.randint(20, 90))
        if 0 < left - people < 15:
            people = left
        left -= people
        items.append(("通识课程", f"通识课程：{rng.choice(COURSE_TOPICS)}", rng.choice(("社区", "楼宇", "企业", "学校")), people))
    for _ in range(lectures):
        items.append(("职工大讲堂", f"职工大讲堂：{rng.choice(LECTURE_TOPICS)}",
                      rng.choices(("社区", "楼宇", "企业", "学校"), (5, 4, 1, 1))[0], rng.randint(40, 200)))
    for _ in range(rng.randint(1, 2)):
        items.append(("技能大赛", rng.choice(CONTEST_TITLES), "企业", rng.randint(20, 150)))
    for _ in range(rng.randint(0, 1)):
        items.append(("技师培训", rng.choice(TRAINING_TITLES), rng.choice(("企业", "学校")), rng.randint(20, 60)))
    for _ in range(rng.randint(0, 2)):
        items.append(("名师带徒", "名师带徒结对活动", "企业", rng.randint(10, 40)))
    if rng.random() < 0.4:
        items.append(("演讲比赛", "“践行社会主义核心价值观”演讲比赛", rng.choice(("社区", "其他")), rng.randint(30, 200)))
    dated = sorted((date_in_months(rng, H2_MONTHS), *item) for item in items)
    out = []
    for j, (d, etype, title, venue, people) in enumerate(dated, start=1):
        eid = f"HD{profile.short}-{YEAR}-{j:04d}"
        out.append(event(eid, d, {"event_id": eid, "street_code": profile.street.code, "event_type": etype,
                                  "title": title, "event_date": d,
                                  "venue_type": venue if rng.random() < 0.95 else None,
                                  "participants": people}))
    return out


# education grants -----------------------------------------------------------------------------

GRANT_AMOUNT = {"专科": 5_000, "本科": 8_000, "研究生": 12_000}


def make_grants(profile: StreetProfile, full: int, partial: int, member_ids: Sequence[str], seed: int) -> list[EventRecord]:
    """全额资助职工读大学 (DC03): the district's ~600 fully funded members."""
    rng = rng_for(seed, "grants", profile.street.code)
    out = []
    for j, is_full in enumerate([True] * full + [False] * partial):
        program = rng.choices(tuple(GRANT_AMOUNT), (40, 50, 10))[0]
        amount = GRANT_AMOUNT[program] * (1 if is_full else rng.choice((0.3, 0.5)))
        approved = date_in_months(rng, {3: 25, 6: 5, 9: 60, 10: 10})
        gid = f"ZZ{profile.short}-{YEAR}-{j + 1:04d}"
        out.append(event(gid, approved, {"grant_id": gid, "member_id": member_ids[j % len(member_ids)],
                                         "street_code": profile.street.code, "program": program,
                                         "approved_date": approved, "amount": money(amount),
                                         "full_funding": is_full}))
    return out


# facilities -------------------------------------------------------------------------------------

ACCEPT_MONTHS = {6: 5, 7: 5, 8: 5, 9: 10, 10: 15, 11: 25, 12: 35}


@dataclass(frozen=True)
class FacilityQuota:
    homes_done: int
    homes_open: int
    home_funding: tuple[int, ...]  # cents, one per home (done then open)
    district_studios: int
    city_studios: int


def _stages(rng: random.Random, accepted: date | None) -> list[tuple[str, date]]:
    if accepted is None:  # still being built at year end
        built = rand_workday(rng, date(2015, 7, 1), date(2015, 11, 30))
        checked = built + timedelta(days=rng.randint(20, 60))
        return [("建设", built)] + ([("抽查", checked)] if checked <= YEAR_END else [])
    checked = accepted - timedelta(days=rng.randint(10, 40))
    built = max(checked - timedelta(days=rng.randint(20, 90)), date(2015, 1, 5))
    if built >= checked:
        checked = built + timedelta(days=5)
        accepted = max(accepted, checked + timedelta(days=5))
    return [("建设", built), ("抽查", checked), ("验收", min(accepted, YEAR_END))]


def _facility(fid: str, org_id: str, street_code: str, ftype: str, level: str | None,
              stages: list[tuple[str, date]], funding: int | None, subsidy: int | None) -> EventRecord:
    base = {"facility_id": fid, "org_id": org_id, "street_code": street_code, "facility_type": ftype,
            "level": level, "funding_amount": funding, "subsidy_amount": None}
    versions = [(d, {**base, "stage": stage, "stage_date": d,
                     "subsidy_amount": subsidy if stage == "验收" else None}) for stage, d in stages]
    return EventRecord(fid, versions)


def make_facilities(profile: StreetProfile, orgs: Sequence[Org], quota: FacilityQuota, seed: int) -> list[EventRecord]:
    """职工之家 (DC07, DC09), 职工书屋 with the 8,000 元 subsidy (DC08), 创新工作室 (DC10)."""
    rng = rng_for(seed, "facilities", profile.street.code)
    hosts = [o for o in orgs if o.active_at_year_end and o.founded < YEAR_START] or list(orgs)
    rng.shuffle(hosts)
    host = Cycler([Employer(o.employer_name, None, o.org_id) for o in hosts])
    code, out = profile.street.code, []
    for j in range(quota.homes_done + quota.homes_open):
        stages = _stages(rng, date_in_months(rng, ACCEPT_MONTHS) if j < quota.homes_done else None)
        out.append(_facility(f"ZJ{profile.short}{j + 1:04d}", host.next().org_id or "", code, "职工之家",
                             "基层" if rng.random() < 0.7 else None, stages, quota.home_funding[j], None))
    for j in range(rng.randint(3, 8) + rng.randint(0, 2)):
        done = j < 3 or rng.random() < 0.8
        subsidy = rng.choices((money(8_000), money(5_000), None), (94, 3, 3))[0]
        stages = _stages(rng, date_in_months(rng, ACCEPT_MONTHS) if done else None)
        out.append(_facility(f"SW{profile.short}{j + 1:04d}", host.next().org_id or "", code, "职工书屋",
                             "基层", stages, None, subsidy))
    levels = ["区级"] * quota.district_studios + ["市级"] * quota.city_studios + ["基层"] * rng.randint(0, 2)
    for j, level in enumerate(levels):
        stages = _stages(rng, date_in_months(rng, ACCEPT_MONTHS) if level != "基层" or rng.random() < 0.5 else None)
        out.append(_facility(f"CX{profile.short}{j + 1:04d}", host.next().org_id or "", code, "职工创新工作室",
                             level, stages, money(rng.randint(20, 100) * 1000), None))
    return out


# hardship cases ----------------------------------------------------------------------------------

AID_BY_CAUSE: dict[str, tuple[str, ...]] = {
    "重病": ("医疗互助", "日常帮扶", "应急救援"), "残疾": ("日常帮扶",), "单亲": ("日常帮扶", "金秋助学"),
    "失业": ("就业帮扶", "日常帮扶"), "子女就学": ("金秋助学",), "灾害": ("应急救援",), "其他": ("日常帮扶",),
}
AID_AMOUNT: dict[str, tuple[int, int, int] | None] = {  # yuan: low, high, step
    "金秋助学": (2_000, 5_000, 500), "医疗互助": (1_000, 20_000, 100), "应急救援": (5_000, 30_000, 1_000),
    "日常帮扶": (500, 2_000, 100), "就业帮扶": None,
}


def _aid_amount(rng: random.Random, aid_type: str) -> int | None:
    spec = AID_AMOUNT.get(aid_type)
    if spec is None:
        return None
    lo, hi, step = spec
    return money(rng.randrange(lo, hi + 1, step))


def make_hardship(profile: StreetProfile, member_ids: Sequence[str], seed: int) -> list[EventRecord]:
    """困难职工建档 and the aid that follows (DC17: ~80 % of registered get aid)."""
    rng = rng_for(seed, "hardship", profile.street.code)
    items: list[tuple[date, str, str, str, int | None]] = []
    for mid in member_ids:
        cause = rng.choices(HARDSHIP_CAUSE, (30, 15, 15, 15, 15, 3, 7))[0]
        registered = (rand_workday(rng, date(2015, 1, 5), date(2015, 3, 31)) if rng.random() < 0.6
                      else rand_workday(rng, date(2015, 4, 1), date(2015, 11, 30)))
        items.append((registered, mid, cause, "建档", None))
        if rng.random() < 0.8:
            for _ in range(rng.randint(1, 3)):
                aid_type = rng.choice(AID_BY_CAUSE[cause])
                lo = max(registered + timedelta(days=3), date(2015, 8, 1) if aid_type == "金秋助学" else YEAR_START)
                hi = date(2015, 9, 30) if aid_type == "金秋助学" and lo <= date(2015, 9, 30) else YEAR_END
                items.append((rand_workday(rng, lo, hi), mid, cause, aid_type, _aid_amount(rng, aid_type)))
    out = []
    for j, (d, mid, cause, aid_type, amount) in enumerate(sorted(items, key=lambda t: t[:4]), start=1):
        aid_id = f"BF{profile.short}-{YEAR}-{j:04d}"
        out.append(event(aid_id, d, {"aid_id": aid_id, "member_id": mid, "street_code": profile.street.code,
                                     "cause": cause, "aid_type": aid_type, "aid_date": d,
                                     "aid_amount": amount}))
    return out


# --- the district --------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictQuotas:
    """District-wide targets split over the streets (the plan's figures are district totals)."""

    course_people: list[int]  # DC01 ≥ 10,000
    lectures: list[int]  # DC02 ≥ 100
    full_grants: list[int]  # DC03 近600
    partial_grants: list[int]
    facilities: list[FacilityQuota]  # DC07 ≥ 719, DC09 2,620,000 元, DC10 ≥ 10


def _home_funding(rng: random.Random, n: int) -> list[int]:
    """Per-home funding (cents) summing to just under the plan's 262万元 (DC09)."""
    total = 2_620_000 - rng.randint(0, 300) * 100
    raw = [rng.uniform(2_000, 6_000) for _ in range(n)]
    yuan = [round(x * total / sum(raw), -2) for x in raw]
    yuan[0] += total - sum(yuan)
    return [money(y) for y in yuan]


def make_quotas(seed: int, profiles: Sequence[StreetProfile]) -> DistrictQuotas:
    rng = rng_for(seed, "quotas")
    size = [p.n_members + 1.0 for p in profiles]
    jitter = [s * rng.uniform(0.7, 1.3) for s in size]
    done = quota_split(rng.randint(719, 728), jitter)
    still_open = quota_split(rng.randint(15, 35), [rng.random() for _ in profiles])
    funding = _home_funding(rng, sum(done) + sum(still_open))
    studios = quota_split(rng.randint(10, 12), [rng.random() for _ in profiles])
    city = quota_split(2, [rng.random() for _ in profiles])
    facilities, at = [], 0
    for d, o, s, c in zip(done, still_open, studios, city, strict=True):
        facilities.append(FacilityQuota(d, o, tuple(funding[at : at + d + o]), s, c))
        at += d + o
    return DistrictQuotas(
        course_people=quota_split(rng.randint(10_150, 10_900), jitter),
        lectures=quota_split(rng.randint(100, 108), size),
        full_grants=quota_split(rng.randint(596, 612), size),
        partial_grants=quota_split(rng.randint(120, 180), size),
        facilities=facilities,
    )


@dataclass
class StreetData:
    profile: StreetProfile
    orgs: list[Org]
    population: pl.DataFrame  # everyone on the member list at some point of the year
    staff: list[Staff]
    events: dict[str, list[EventRecord]]

    def jingka_rate(self, k: int) -> float:
        return min(0.98, self.profile.jingka_rate + 0.04 * k)


@dataclass(frozen=True)
class PlantedSignal:
    """A labour-relations warning signal planted in the district: evaluated as of
    2015-12-31 with the default rule file, it raises exactly this alert."""

    rule_code: str
    level: str
    area_code: str
    entity_key: str
    window: str
    datasets: tuple[str, ...]  # the street's datasets it lives in (defects keep off them)
    description: str


@dataclass
class District:
    seed: int
    scale: float
    streets: list[StreetData]
    planted: list[PlantedSignal] = field(default_factory=list)


# Planted labour-relations warning signals (W01-W09): one function per signal, each
# mutating the clean district (adding cases, a layoff between snapshots, ...) and
# recording what it planted in ``District.planted``. They live in ``signals.py``;
# :func:`build_district` runs them in order.
SignalPlanter = Callable[[District, random.Random], None]


def _pick_members(frame: pl.DataFrame, n: int, salt: object) -> list[str]:
    """``n`` distinct long-standing active members (fewer if the street is tiny)."""
    pool = frame.filter((pl.col("status") == "在会") & (pl.col("join_date") < YEAR_START))
    if pool.is_empty():
        pool = frame
    ordered = pool.sort(pl.col("member_id").hash(seed_of(salt)), "member_id")
    return ordered["member_id"].head(max(n, 1)).to_list()


def build_street(profile: StreetProfile, quotas: DistrictQuotas, seed: int, book: NameBook) -> StreetData:
    i, code = profile.index, profile.street.code
    orgs = make_orgs(profile, seed, book)
    pop = member_population(profile.n_members, (seed, "members", code), i, profile.short, OrgPool.from_orgs(orgs))
    year_end = member_snapshot(pop, YEAR_END, 0.0, code)
    rng = rng_for(seed, "employers", code)
    extra = profile.n_orgs // 2 + 10
    full, partial = quotas.full_grants[i], quotas.partial_grants[i]
    n_hard = max(3, round(profile.n_members * rng.uniform(0.003, 0.006)))
    events = {
        "collective_contracts": make_contracts(profile, orgs, seed),
        "dispute_cases": make_disputes(profile, employer_pool(orgs, extra, rng, book, profile.street), seed),
        "hotline_tickets": make_tickets(profile, employer_pool(orgs, extra, rng, book, profile.street), seed),
        "legal_services": make_legal_services(profile, seed),
        "training_events": make_training(profile, quotas.course_people[i], quotas.lectures[i], seed),
        "education_grants": make_grants(profile, full, partial, _pick_members(year_end, full + partial, (seed, "g", code)), seed),
        "facilities": make_facilities(profile, orgs, quotas.facilities[i], seed),
        "hardship_cases": make_hardship(profile, _pick_members(year_end, n_hard, (seed, "h", code)), seed),
    }
    return StreetData(profile, orgs, pop, make_staff(profile, seed), events)


def build_district(seed: int = 2015, scale: float = 1.0, streets: Sequence[Street] = STREETS,
                   planters: Sequence[SignalPlanter] | None = None) -> District:
    """The district with its planted warning signals (``planters``: default
    :data:`pipelines.generate.signals.SIGNAL_PLANTERS`; ``()`` for none)."""
    if planters is None:
        from .signals import SIGNAL_PLANTERS  # the planters build on this module

        planters = SIGNAL_PLANTERS
    profiles = make_profiles(seed, scale, streets)
    quotas = make_quotas(seed, profiles)
    book = NameBook()
    district = District(seed, scale, [build_street(p, quotas, seed, book) for p in profiles])
    for planter in planters:
        planter(district, rng_for(seed, "signal", getattr(planter, "__name__", "signal")))
    return district


# --- files --------------------------------------------------------------------------------

POLARS_TYPES: dict[ColumnType, pl.DataType] = {
    ColumnType.DATE: pl.Date(),
    ColumnType.DATETIME: pl.Datetime("us"),
    ColumnType.BOOL: pl.Boolean(),
    ColumnType.INT: pl.Int64(),
    ColumnType.MONEY: pl.Int64(),  # cents
    ColumnType.DECIMAL: pl.Int64(),  # tenths
}
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def typed_frame(dataset: Dataset, rows: Sequence[dict]) -> pl.DataFrame:
    schema = {c.name: POLARS_TYPES.get(c.type, pl.String()) for c in dataset.columns}
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def periods(kind: str) -> list[tuple[str, date, date]]:
    if kind == "M":
        return [(f"{YEAR}-{m:02d}", date(YEAR, m, 1), month_end(YEAR, m)) for m in range(1, 13)]
    return [(f"{YEAR}-Q{q}", date(YEAR, 3 * q - 2, 1), month_end(YEAR, 3 * q)) for q in range(1, 5)]


def choose_format(rng: random.Random, habit: str, rows: int) -> FileFormat:
    """A street mostly sends what its clerk's software exports (its habit)."""
    kind = habit if rng.random() < 0.7 else rng.choices(FORMAT_HABITS, (40, 20, 15, 18, 7))[0]
    if (kind == "xlsx" and rows > XLSX_MAX_ROWS) or (kind == "jsonl" and rows > JSONL_MAX_ROWS):
        kind = "csv-bom"
    match kind:
        case "csv-bom":
            return FileFormat("csv", "utf-8-sig", rng.choice(("\r\n", "\n")))
        case "csv-gbk":
            return FileFormat("csv", "gbk", "\r\n")
        case "xlsx":
            return FileFormat("xlsx", None)
        case "jsonl":
            return FileFormat("jsonl", "utf-8")
    return FileFormat("csv", "utf-8", "\n")


def choose_style(rng: random.Random, fmt: FileFormat, dataset: Dataset) -> TextStyle:
    lang = "en" if rng.random() < 0.15 else "zh"
    case = "plain"
    if lang == "en" and rng.random() < 0.2:
        case = "upper"
    elif lang == "zh" and rng.random() < 0.08:
        case = "spaced"
    has_money = any(c.type is ColumnType.MONEY for c in dataset.columns)
    return TextStyle(
        header_lang=lang,
        header_case=case,
        bool_values=rng.choices((("是", "否"), ("Y", "N"), ("1", "0")), (80, 10, 10))[0],
        date_style="iso" if fmt.kind == "xlsx" else rng.choices(("iso", "slash", "zh"), (80, 12, 8))[0],
        thousands=fmt.kind == "csv" and has_money and rng.random() < 0.2,
    )


def _clerk_habits(typed: pl.DataFrame, dataset: Dataset, rng: random.Random, key: tuple) -> pl.DataFrame:
    """What real exports look like: 劳模级别 left blank for 无, street_code sometimes
    omitted or left blank (it defaults to the folder's street), a 备注 column."""
    r = VecRng(typed.height, *key)
    if "model_worker" in typed.columns and rng.random() < 0.7:
        typed = typed.with_columns(pl.when(pl.col("model_worker") != "无").then(pl.col("model_worker")).alias("model_worker"))
    u = rng.random()
    if u < 0.1:
        typed = typed.drop("street_code")
    elif u < 0.25:
        blank = pl.lit(r.uniform("blank_street") < 0.03)
        typed = typed.with_columns(pl.when(~blank).then(pl.col("street_code")).alias("street_code"))
    if rng.random() < 0.1 and typed.height <= XLSX_MAX_ROWS:
        note = pl.lit(r.choice("remark", REMARKS))
        typed = typed.with_columns(pl.when(pl.lit(r.uniform("has_remark")) < 0.05).then(note).alias("remark"))
    return typed


def _full_width_cell(table: StringTable, rng: random.Random) -> None:
    """Rarely, a clerk types a number with full-width digits (valid after NFKC)."""
    ints = [c for c in table.frame.columns if table.column_type(c) is ColumnType.INT]
    if not ints or table.height == 0:
        return
    row, col = rng.randrange(table.height), rng.choice(ints)
    value = table.get(row, col)
    if value:
        table.set(row, col, value.translate(FULL_WIDTH))


def plan_file(seed: int, profile: StreetProfile, dataset: str, stem: str, typed: pl.DataFrame,
              due: date) -> PlannedFile:
    code = profile.street.code
    ds = get_dataset(dataset)
    rng = rng_for(seed, "file", code, dataset, stem)
    fmt = choose_format(rng, profile.format_habit, typed.height)
    style = choose_style(rng, fmt, ds)
    table = render_table(_clerk_habits(typed, ds, rng, (seed, "habits", code, stem)), ds, style)
    if fmt.kind == "csv" and rng.random() < 0.05:
        _full_width_cell(table, rng)
    sent = datetime.combine(due + timedelta(days=rng.randint(1, 6)), datetime.min.time()) + timedelta(
        seconds=rng.randint(9 * 3600, 17 * 3600)
    )
    pf = PlannedFile(path=f"inbox/{code}/{dataset}/{stem}.{fmt.ext}", dataset=dataset, street_code=code,
                     fmt=fmt, table=table, submitted_at=sent)
    if fmt.encoding == "gbk" and table.height <= 50 and _valid_utf8(planned_bytes(pf)):
        # A short GBK export with little Chinese can happen to be valid UTF-8 too (欠薪 is):
        # no reader could tell, so the clerk's software writes UTF-8 with a BOM instead.
        pf.fmt = FileFormat("csv", "utf-8-sig", "\r\n")
    return pf


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def plan_street(seed: int, sd: StreetData) -> list[PlannedFile]:
    p, code = sd.profile, sd.profile.street.code
    out = []
    for k, as_of in enumerate(SNAPSHOT_DATES):
        orgs = typed_frame(get_dataset("union_orgs"), org_snapshot_rows(sd.orgs, k, code))
        members = member_snapshot(sd.population, as_of, sd.jingka_rate(k), code)
        staff = typed_frame(get_dataset("street_staff"), staff_snapshot_rows(sd.staff, k, code))
        for name, frame in (("union_orgs", orgs), ("members", members), ("street_staff", staff)):
            if frame.height:
                out.append(plan_file(seed, p, name, f"{name}_{as_of.isoformat()}", frame, as_of))
    for name, kind in EVENT_PERIODS.items():
        ds = get_dataset(name)
        for label, start, end in periods(kind):
            rows = rows_in_period(sd.events[name], start, end)
            if rows:
                out.append(plan_file(seed, p, name, f"{name}_{label}", typed_frame(ds, rows), end))
    return out


def plan_files(district: District) -> list[PlannedFile]:
    return [pf for sd in district.streets for pf in plan_street(district.seed, sd)]


# --- one big members file (benchmarks) ----------------------------------------------------------


def write_members_csv(path: Path | str, n_rows: int, seed: int = 2015, street_code: str = "110101001") -> int:
    """Write one valid members snapshot (as of 2015-12-31) of ``n_rows`` rows as UTF-8 CSV
    with Chinese headers, built with vectorised code; returns the number of rows."""
    codes = [s.code for s in STREETS]
    index = codes.index(street_code) if street_code in codes else int(street_code[-3:]) - 1
    short = street_code[-3:]
    rng = rng_for(seed, "bench-orgs", street_code)
    n_orgs = max(3, n_rows // 30)
    pool = OrgPool(
        org_ids=[f"GH{short}{i + 1:05d}" for i in range(n_orgs)],
        weights=[float(rng.randint(5, 300)) for _ in range(n_orgs)],
        founded=[date(2005, 1, 1)] * n_orgs,
        closure=[None] * n_orgs,
        stable=list(range(n_orgs)),
    )
    pop = member_population(n_rows, (seed, "bench", street_code), index, short, pool, churn=False, partitions=1)
    snap = member_snapshot(pop, YEAR_END, 0.8, street_code)
    table = render_table(snap, get_dataset("members"), TextStyle())
    out = Path(path)
    write_planned(out.parent, PlannedFile(out.name, "members", street_code, FileFormat("csv"), table))
    return table.height
