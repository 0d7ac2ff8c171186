"""The eleven datasets the streets submit: columns, Chinese headers, types and rules.

This module is the contract's single source of truth. Change a rule here and the
readers, the row validators, the quality suites, the dbt sources, the templates and
the rule catalogue all follow.
"""

from __future__ import annotations

import re
import unicodedata

from .industry import SECTIONS
from .schema import (
    Column,
    Dataset,
    DatasetKind,
    IdentityAgreement,
    NotAfter,
    Ordered,
    Prefix,
    RequiredWhen,
    UniqueWhere,
    WarnGreater,
)
from .schema import (
    ColumnType as T,
)

INDUSTRY_SECTIONS = tuple(s.code for s in SECTIONS)  # GB/T 4754-2017 门类 A-T
OWNERSHIP = ("国有", "集体", "私营", "外资", "港澳台", "事业单位", "机关", "社会组织", "其他")
ORG_STATUS = ("正常", "迁出", "注销", "合并")
GENDER = ("男", "女")
MEMBER_STATUS = ("在会", "转出", "退会", "去世")
WORKER_TYPE = ("合同制", "劳务派遣", "农民工", "灵活就业", "其他")
MODEL_WORKER = ("无", "区级", "市级", "全国")
STAFF_ROLE = ("集体协商专职指导员", "工会专干", "联络员", "其他")
CONTRACT_TYPE = ("综合性", "工资专项", "女职工专项", "行业性", "区域性")
DISPUTE_TYPE = ("工资报酬", "社会保险", "解除劳动合同", "工伤待遇", "加班", "经济补偿", "其他")
CASE_STATUS = ("受理", "调解中", "调解成功", "调解不成", "撤回", "转仲裁")
CASE_CLOSED_STATUS = ("调解成功", "调解不成", "撤回", "转仲裁")
# The outcomes the mediation success rate (DC13, warning W08) counts: 撤回 (withdrawn)
# is closed but decided nothing, so it is in neither numerator nor denominator.
CASE_DECIDED_STATUS = ("调解成功", "调解不成", "转仲裁")
CASE_SUCCESS_STATUS = "调解成功"
CASE_OPEN_STATUS = tuple(s for s in CASE_STATUS if s not in CASE_CLOSED_STATUS)  # 受理, 调解中
TICKET_CATEGORY = ("欠薪", "劳动合同", "社会保险", "工伤", "休息休假", "其他")
LEGAL_SERVICE_TYPE = ("律师志愿服务", "菜单式法律服务", "案例大讲堂", "法律援助申报", "法律咨询")
TRAINING_TYPE = ("通识课程", "职工大讲堂", "技能大赛", "技师培训", "名师带徒", "演讲比赛")
VENUE_TYPE = ("社区", "楼宇", "企业", "学校", "其他")
EDUCATION_PROGRAM = ("专科", "本科", "研究生")
FACILITY_TYPE = ("职工之家", "职工书屋", "职工创新工作室")
FACILITY_LEVEL = ("基层", "区级", "市级", "全国")
FACILITY_STAGE = ("建设", "抽查", "验收")
HARDSHIP_CAUSE = ("重病", "残疾", "单亲", "失业", "子女就学", "灾害", "其他")
AID_TYPE = ("建档", "金秋助学", "医疗互助", "应急救援", "就业帮扶", "日常帮扶")


def _street() -> Column:
    return Column(
        "street_code", "街道代码", T.STR,
        doc="9位街道统计区划代码；留空时取上报文件夹所属街道 (9-digit street code; blank takes the folder's street)",
    )


def _as_of() -> Column:
    return Column(
        "as_of_date", "统计日期", T.DATE, required=True,
        doc="名单统计截止日期，全文件同一值 (the snapshot's as-of date, one value per file)",
    )


UNION_ORGS = Dataset(
    name="union_orgs",
    zh="基层工会组织",
    kind=DatasetKind.REGISTRY,
    key="org_id",
    doc="街道内全部基层工会组织名单（快照） (the street's complete list of grassroots unions)",
    columns=(
        Column("org_id", "工会组织编号", T.STR, required=True, doc="工会组织编号，快照内唯一 (union organisation id)"),
        Column("org_name", "工会名称", T.STR, required=True, doc="工会名称 (union name)"),
        Column("employer_name", "单位名称", T.STR, required=True, doc="所在单位名称 (employer name)"),
        Column("credit_code", "统一社会信用代码", T.USCC, required=True, doc="单位统一社会信用代码 (employer's unified social credit code)"),
        _street(),
        Column("industry", "行业门类", T.ENUM, required=True, enum=INDUSTRY_SECTIONS,
               enum_labels=tuple(s.name for s in SECTIONS),
               doc="国民经济行业分类门类 A–T (GB/T 4754-2017 section)"),
        Column("ownership", "单位性质", T.ENUM, required=True, enum=OWNERSHIP, doc="单位性质 (ownership)"),
        Column("employees", "职工人数", T.INT, required=True, doc="职工人数 (employees)"),
        Column("members", "会员人数", T.INT, required=True, doc="会员人数 (union members)"),
        Column("founded_date", "建会日期", T.DATE, required=True, doc="建会日期，不晚于统计日期 (date the union was founded)"),
        Column("legal_person_registered", "法人资格登记", T.BOOL, required=True, doc="是否完成工会法人资格登记 (registered as a legal person)"),
        Column("union_credit_code", "工会统一社会信用代码", T.USCC, doc="工会法人统一社会信用代码，以81开头；已登记时必填 (the union's own credit code, starts 81)"),
        Column("has_mediation_committee", "劳动争议调解委员会", T.BOOL, required=True, doc="是否建立劳动争议调解委员会 (has a labour-dispute mediation committee)"),
        Column("has_workers_congress", "职代会制度", T.BOOL, required=True, doc="是否建立职代会制度 (has a workers' congress)"),
        Column("factory_affairs_open", "厂务公开", T.BOOL, required=True, doc="是否实行厂务公开 (practises open factory affairs)"),
        Column("is_model_enterprise", "典型示范企业", T.BOOL, required=True, doc="是否典型示范企业 (a model enterprise)"),
        Column("status", "状态", T.ENUM, required=True, enum=ORG_STATUS, doc="组织状态 (status)"),
        _as_of(),
    ),
    rules=(
        NotAfter("date.after_as_of", "founded_date", "as_of_date"),
        RequiredWhen("union_credit_code.required", "union_credit_code", "legal_person_registered", ("true",)),
        Prefix("union_credit_code.prefix", "union_credit_code", "81"),
        WarnGreater("members.exceed_employees", "members", "employees"),
    ),
)

MEMBERS = Dataset(
    name="members",
    zh="会员信息",
    kind=DatasetKind.REGISTRY,
    key="member_id",
    doc="街道内全部工会会员名单（快照） (the street's complete member list)",
    columns=(
        Column("member_id", "会员编号", T.STR, required=True, doc="会员编号，快照内唯一 (member id)"),
        Column("name", "姓名", T.STR, required=True, personal=True, doc="姓名（个人信息） (name; personal data)"),
        Column("id_number", "身份证号", T.ID18, required=True, personal=True, doc="18位居民身份证号（个人信息） (resident ID; personal data)"),
        Column("gender", "性别", T.ENUM, required=True, enum=GENDER, doc="性别，须与身份证号一致 (gender, agrees with the ID)"),
        Column("birth_date", "出生日期", T.DATE, doc="出生日期，填写时须与身份证号一致 (birth date, agrees with the ID)"),
        Column("phone", "手机号", T.PHONE, personal=True, doc="手机或固定电话（个人信息） (phone; personal data)"),
        Column("org_id", "工会组织编号", T.STR, required=True, doc="所属工会组织编号 (union organisation id)"),
        _street(),
        Column("join_date", "入会日期", T.DATE, required=True, doc="入会日期：年满16周岁后、统计日期前 (date joined)"),
        Column("status", "会籍状态", T.ENUM, required=True, enum=MEMBER_STATUS, doc="会籍状态 (membership status)"),
        Column("worker_type", "职工类别", T.ENUM, required=True, enum=WORKER_TYPE, doc="职工类别 (kind of worker)"),
        Column("jingka_issued", "京卡办理", T.BOOL, required=True, doc="是否办理京卡（北京工会会员服务卡） (holds the Beijing union member card)"),
        Column("model_worker", "劳模级别", T.ENUM, enum=MODEL_WORKER, blank_default="无", doc="劳模级别，留空为无 (model-worker level; blank = 无)"),
        _as_of(),
    ),
    rules=(
        IdentityAgreement("id_number", "gender", "birth_date", "join_date", min_join_age=16),
        NotAfter("date.after_as_of", "join_date", "as_of_date"),
        UniqueWhere("id_number.duplicate_active", "id_number", "status", "在会"),
    ),
)

STREET_STAFF = Dataset(
    name="street_staff",
    zh="街道工会工作人员",
    kind=DatasetKind.REGISTRY,
    key="staff_id",
    doc="街道总工会工作人员名单（快照） (the street federation's staff list)",
    columns=(
        Column("staff_id", "人员编号", T.STR, required=True, doc="人员编号 (staff id)"),
        Column("name", "姓名", T.STR, required=True, personal=True, doc="姓名（个人信息） (name; personal data)"),
        Column("role", "岗位", T.ENUM, required=True, enum=STAFF_ROLE, doc="岗位 (role)"),
        Column("appointed_date", "任职日期", T.DATE, required=True, doc="任职日期 (appointed on)"),
        Column("active", "在岗", T.BOOL, required=True, doc="是否在岗 (currently in post)"),
        _street(),
        _as_of(),
    ),
)

COLLECTIVE_CONTRACTS = Dataset(
    name="collective_contracts",
    zh="集体合同",
    kind=DatasetKind.EVENT,
    key="contract_id",
    doc="集体合同签订、续签记录 (collective contracts and their renewals)",
    columns=(
        Column("contract_id", "合同编号", T.STR, required=True, doc="合同编号 (contract id)"),
        Column("org_id", "工会组织编号", T.STR, required=True, doc="签约工会组织编号 (union organisation id)"),
        _street(),
        Column("contract_type", "合同类型", T.ENUM, required=True, enum=CONTRACT_TYPE, doc="合同类型 (contract type)"),
        Column("signed_date", "签订日期", T.DATE, required=True, doc="签订日期 (signed on)"),
        Column("start_date", "生效日期", T.DATE, required=True, doc="生效日期 (valid from)"),
        Column("end_date", "终止日期", T.DATE, required=True, doc="终止日期，晚于生效日期 (valid until, after the start)"),
        Column("employees_covered", "覆盖职工数", T.INT, required=True, doc="覆盖职工数 (employees covered)"),
        Column("wage_increase_pct", "工资增幅", T.DECIMAL, minimum=-50, maximum=100, doc="工资增幅（%），-50 至 100 (wage increase, percent)"),
        Column("standardized", "规范协商", T.BOOL, required=True, doc="是否通过规范化协商检查 (passed the standardisation checklist)"),
        Column("renews_contract_id", "续签原合同编号", T.STR, doc="续签的原合同编号 (the contract this one renews)"),
    ),
    rules=(Ordered("end_date.not_after_start", "end_date", "start_date", strict=True),),
)

DISPUTE_CASES = Dataset(
    name="dispute_cases",
    zh="劳动争议调解案件",
    kind=DatasetKind.EVENT,
    key="case_id",
    doc="劳动争议调解案件，按案件编号更新状态 (labour-dispute mediation cases)",
    columns=(
        Column("case_id", "案件编号", T.STR, required=True, doc="案件编号 (case id)"),
        _street(),
        Column("employer_name", "用人单位", T.STR, required=True, doc="用人单位名称 (employer)"),
        Column("credit_code", "统一社会信用代码", T.USCC, doc="用人单位统一社会信用代码 (employer's credit code)"),
        Column("org_id", "工会组织编号", T.STR, doc="用人单位工会组织编号，未建会留空 (the employer's union, blank if none)"),
        Column("received_date", "受理日期", T.DATE, required=True, doc="受理日期 (received on)"),
        Column("dispute_type", "争议类型", T.ENUM, required=True, enum=DISPUTE_TYPE, doc="争议类型 (dispute type)"),
        Column("workers_involved", "涉及人数", T.INT, required=True, minimum=1, doc="涉及职工人数，至少1人 (workers involved)"),
        Column("amount_claimed", "涉案金额", T.MONEY, doc="涉案金额（元） (amount claimed, yuan)"),
        Column("status", "案件状态", T.ENUM, required=True, enum=CASE_STATUS, doc="案件状态 (case status)"),
        Column("closed_date", "结案日期", T.DATE, doc="结案日期，结案状态必填，不早于受理日期 (closed on)"),
        Column("amount_settled", "调解金额", T.MONEY, doc="调解金额（元） (amount settled, yuan)"),
    ),
    rules=(
        RequiredWhen("closed_date.required", "closed_date", "status", CASE_CLOSED_STATUS),
        Ordered("closed_date.before_received", "closed_date", "received_date", strict=False),
    ),
)

HOTLINE_TICKETS = Dataset(
    name="hotline_tickets",
    zh="平台派单",
    kind=DatasetKind.EVENT,
    key="ticket_id",
    doc="服务热线平台派单及办理情况 (hotline tickets dispatched to the street)",
    columns=(
        Column("ticket_id", "工单编号", T.STR, required=True, doc="工单编号 (ticket id)"),
        _street(),
        Column("received_at", "派单时间", T.DATETIME, required=True, doc="派单时间 (dispatched at)"),
        Column("category", "诉求类别", T.ENUM, required=True, enum=TICKET_CATEGORY, doc="诉求类别 (category)"),
        Column("employer_name", "涉及单位", T.STR, doc="涉及单位 (employer concerned)"),
        Column("credit_code", "统一社会信用代码", T.USCC, doc="涉及单位统一社会信用代码 (employer's credit code)"),
        Column("deadline_at", "办理时限", T.DATETIME, required=True, doc="办理时限，晚于派单时间 (due by)"),
        Column("responded_at", "响应时间", T.DATETIME, doc="首次响应时间 (first response at)"),
        Column("closed_at", "办结时间", T.DATETIME, doc="办结时间 (closed at)"),
        Column("satisfied", "是否满意", T.BOOL, doc="诉求人是否满意 (caller satisfied)"),
    ),
    rules=(Ordered("deadline_at.not_after_received", "deadline_at", "received_at", strict=True),),
)

LEGAL_SERVICES = Dataset(
    name="legal_services",
    zh="法律服务",
    kind=DatasetKind.EVENT,
    key="service_id",
    doc="律师志愿服务、菜单式法律服务等记录 (legal services delivered)",
    columns=(
        Column("service_id", "服务编号", T.STR, required=True, doc="服务编号 (service id)"),
        _street(),
        Column("service_date", "服务日期", T.DATE, required=True, doc="服务日期 (date)"),
        Column("service_type", "服务类型", T.ENUM, required=True, enum=LEGAL_SERVICE_TYPE, doc="服务类型 (service type)"),
        Column("lawyer_name", "律师", T.STR, personal=True, doc="律师姓名（个人信息） (lawyer; personal data)"),
        Column("people_served", "服务人次", T.INT, required=True, doc="服务人次 (people served)"),
    ),
)

TRAINING_EVENTS = Dataset(
    name="training_events",
    zh="职工素质活动",
    kind=DatasetKind.EVENT,
    key="event_id",
    doc="通识课程、职工大讲堂、技能大赛等活动 (training and education events)",
    columns=(
        Column("event_id", "活动编号", T.STR, required=True, doc="活动编号 (event id)"),
        _street(),
        Column("event_type", "活动类型", T.ENUM, required=True, enum=TRAINING_TYPE, doc="活动类型 (event type)"),
        Column("title", "名称", T.STR, required=True, doc="活动名称 (title)"),
        Column("event_date", "日期", T.DATE, required=True, doc="活动日期 (date)"),
        Column("venue_type", "场所类型", T.ENUM, enum=VENUE_TYPE, doc="场所类型 (venue)"),
        Column("participants", "参加人次", T.INT, required=True, doc="参加人次 (participants)"),
    ),
)

EDUCATION_GRANTS = Dataset(
    name="education_grants",
    zh="学历助推资助",
    kind=DatasetKind.EVENT,
    key="grant_id",
    doc="职工学历助推计划资助 (grants for members' university study)",
    columns=(
        Column("grant_id", "资助编号", T.STR, required=True, doc="资助编号 (grant id)"),
        Column("member_id", "会员编号", T.STR, required=True, doc="受资助会员编号 (member id)"),
        _street(),
        Column("program", "学历层次", T.ENUM, required=True, enum=EDUCATION_PROGRAM, doc="学历层次 (programme)"),
        Column("approved_date", "批准日期", T.DATE, required=True, doc="批准日期 (approved on)"),
        Column("amount", "资助金额", T.MONEY, required=True, doc="资助金额（元） (amount, yuan)"),
        Column("full_funding", "全额资助", T.BOOL, required=True, doc="是否全额资助 (fully funded)"),
    ),
)

FACILITIES = Dataset(
    name="facilities",
    zh="职工之家/职工书屋/创新工作室",
    kind=DatasetKind.EVENT,
    key="facility_id",
    doc="职工之家、职工书屋、职工创新工作室建设进度 (workers' homes, libraries and innovation studios)",
    columns=(
        Column("facility_id", "阵地编号", T.STR, required=True, doc="阵地编号 (facility id)"),
        Column("org_id", "工会组织编号", T.STR, required=True, doc="所属工会组织编号 (union organisation id)"),
        _street(),
        Column("facility_type", "阵地类型", T.ENUM, required=True, enum=FACILITY_TYPE, doc="阵地类型 (facility type)"),
        Column("level", "级别", T.ENUM, enum=FACILITY_LEVEL, doc="级别 (level)"),
        Column("stage", "进度", T.ENUM, required=True, enum=FACILITY_STAGE, doc="建设进度：建设、抽查、验收 (stage)"),
        Column("stage_date", "进度日期", T.DATE, required=True, doc="达到该进度的日期 (date the stage was reached)"),
        Column("funding_amount", "投入资金", T.MONEY, doc="投入资金（元） (funding, yuan)"),
        Column("subsidy_amount", "补助金额", T.MONEY, doc="补助金额（元） (subsidy, yuan)"),
    ),
)

HARDSHIP_CASES = Dataset(
    name="hardship_cases",
    zh="困难职工帮扶",
    kind=DatasetKind.EVENT,
    key="aid_id",
    doc="困难职工建档与帮扶记录 (hardship registration and aid)",
    columns=(
        Column("aid_id", "帮扶编号", T.STR, required=True, doc="帮扶编号 (aid id)"),
        Column("member_id", "会员编号", T.STR, required=True, doc="会员编号 (member id)"),
        _street(),
        Column("cause", "致困原因", T.ENUM, required=True, enum=HARDSHIP_CAUSE, doc="致困原因 (cause of hardship)"),
        Column("aid_type", "帮扶类型", T.ENUM, required=True, enum=AID_TYPE, doc="帮扶类型 (kind of aid)"),
        Column("aid_date", "帮扶日期", T.DATE, required=True, doc="帮扶日期 (date)"),
        Column("aid_amount", "帮扶金额", T.MONEY, doc="帮扶金额（元） (amount, yuan)"),
    ),
)

DATASETS: tuple[Dataset, ...] = (
    UNION_ORGS,
    MEMBERS,
    STREET_STAFF,
    COLLECTIVE_CONTRACTS,
    DISPUTE_CASES,
    HOTLINE_TICKETS,
    LEGAL_SERVICES,
    TRAINING_EVENTS,
    EDUCATION_GRANTS,
    FACILITIES,
    HARDSHIP_CASES,
)

DATASETS_BY_NAME: dict[str, Dataset] = {d.name: d for d in DATASETS}


# What may separate the parts of a Chinese dataset name in a folder name: whitespace and
# the punctuation a clerk types between 职工之家, 职工书屋 and 创新工作室 (after NFKC, so
# full-width forms count too). Only the Chinese names are read this leniently; the English
# folder names are matched exactly, as they always were.
_FOLDER_SEPARATORS = re.compile(r"[\s/\\、,;_\-·・|]+")


def folder_key(folder: str) -> str:
    """How a folder name is compared with the datasets' Chinese names: NFKC (full-width
    forms to their usual ones), separators and whitespace removed."""
    return _FOLDER_SEPARATORS.sub("", unicodedata.normalize("NFKC", folder))


_BY_FOLDER_ZH: dict[str, Dataset] = {folder_key(d.zh): d for d in DATASETS}


def dataset_for_folder(folder: str) -> Dataset | None:
    """The dataset a drop-zone folder names: its English name exactly (``members``), or
    its Chinese name (``会员信息``; :attr:`Dataset.folder_zh`, compared by
    :func:`folder_key`); None for any other folder."""
    return DATASETS_BY_NAME.get(folder) or _BY_FOLDER_ZH.get(folder_key(folder))


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS_BY_NAME)}") from None
