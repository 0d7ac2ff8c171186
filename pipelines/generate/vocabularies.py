"""Vocabularies: people's names, employers' names and credit-code prefixes, titles of
training events, remarks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.contract import Street

from .identifiers import make_uscc

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
