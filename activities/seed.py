"""The demo county ``pdw dev`` starts with: Yongjia's departments, each with its three registered
people (Art. 43), and a dozen catalog entries (Art. 10). People and addresses are invented."""

from __future__ import annotations

import zlib
from datetime import date

from sqlmodel import select

from activities.store import insert_ignore, session
from models.catalog import CatalogVersion, DataResource
from models.departments import Department, Person, RoleAssignment

# code, name, kind, (first responsible, leader in charge, daily administrator) as (id, name)
DEPARTMENTS: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    ("dsj", "县大数据管理中心", "center",
     [("dsj.chenjianguo", "陈建国"), ("dsj.linxiaohong", "林晓红"), ("dsj.zhouwei", "周伟")]),
    # Art. 4: the competent authority above the center; its leaders hear of the center's own delays.
    ("dsjj", "县大数据发展管理局", "bureau",
     [("dsjj.shaojun", "邵军"), ("dsjj.fangyan", "方艳"), ("dsjj.yuting", "余婷")]),
    ("xzf", "县人民政府", "county_gov",
     [("xzf.huangzhiqiang", "黄志强"), ("xzf.wuminghui", "吴明辉"), ("xzf.xujing", "徐静")]),
    ("wzdsj", "温州市大数据发展管理局", "city_bureau",
     [("wzdsj.zhengkai", "郑凯"), ("wzdsj.sunli", "孙丽"), ("wzdsj.hehao", "何浩")]),
    ("zjwyh", "县公共数据专家委员会", "expert_committee",
     [("zjwyh.luoqing", "罗清"), ("zjwyh.songyu", "宋宇"), ("zjwyh.tangmin", "唐敏")]),
    ("gaj", "县公安局", "department",
     [("gaj.wanghaitao", "王海涛"), ("gaj.lijun", "李军"), ("gaj.zhangfang", "张芳")]),
    ("jyj", "县教育局", "department",
     [("jyj.liuyang", "刘洋"), ("jyj.chenli", "陈莉"), ("jyj.panxiaoyu", "潘晓雨")]),
    ("scjgj", "县市场监督管理局", "department",
     [("scjgj.yangguang", "杨光"), ("scjgj.zhaomin", "赵敏"), ("scjgj.jinlei", "金磊")]),
    ("rsj", "县人力资源和社会保障局", "department",
     [("rsj.huxiaodong", "胡晓东"), ("rsj.zhuhong", "朱红"), ("rsj.gaofeng", "高峰")]),
    ("wjj", "县卫生健康局", "department",
     [("wjj.linzhiyuan", "林志远"), ("wjj.xiejing", "谢静"), ("wjj.maqiang", "马强")]),
    ("mzj", "县民政局", "department",
     [("mzj.dongping", "董平"), ("mzj.yewen", "叶雯"), ("mzj.caibin", "蔡斌")]),
    ("zrzyj", "县自然资源和规划局", "department",
     [("zrzyj.jiangtao", "蒋涛"), ("zrzyj.xuli", "许丽"), ("zrzyj.shenhua", "沈华")]),
    ("zjj", "县住房和城乡建设局", "department",
     [("zjj.pengcheng", "彭程"), ("zjj.lumei", "陆梅"), ("zjj.qianjun", "钱俊")]),
]
ROLES = ["first_responsible", "leader_in_charge", "daily_admin"]

# id, owner, name, content, encoding, share, open, frequency, share reason, share basis
CATALOG: list[tuple[str, str, str, str, str, str, str, str, str | None, str | None]] = [
    ("RES-GAJ-001", "gaj", "户籍人口基本信息", "姓名、公民身份号码、户籍地址、户别", "JSON", "restricted", "forbidden",
     "daily", "含个人身份信息，仅供履职核验", "《中华人民共和国个人信息保护法》第三十四条"),
    ("RES-GAJ-002", "gaj", "机动车登记信息", "号牌号码、车辆类型、登记日期", "JSON", "restricted", "unopened",
     "daily", "涉及车辆所有人信息", "《中华人民共和国道路交通安全法》"),
    ("RES-JYJ-001", "jyj", "中小学校基本信息", "学校名称、地址、办学类型、在校生数", "CSV", "unconditional",
     "unconditional", "yearly", None, None),
    ("RES-JYJ-002", "jyj", "学生学籍信息", "学籍号、姓名、就读学校、年级", "JSON", "restricted", "unopened",
     "monthly", "含未成年人个人信息", "《中华人民共和国未成年人保护法》第七十二条"),
    ("RES-SCJGJ-001", "scjgj", "市场主体登记信息", "统一社会信用代码、名称、法定代表人、住所、经营范围", "JSON",
     "unconditional", "unconditional", "realtime", None, None),
    ("RES-SCJGJ-002", "scjgj", "食品经营许可信息", "许可证编号、经营者名称、经营项目、有效期", "JSON",
     "unconditional", "restricted", "daily", None, None),
    ("RES-RSJ-001", "rsj", "社会保险参保信息", "姓名、公民身份号码、参保险种、参保状态", "JSON", "restricted",
     "unopened", "monthly", "含个人社保信息", "《社会保险法》第八十一条"),
    ("RES-WJJ-001", "wjj", "医疗机构执业登记信息", "机构名称、类别、诊疗科目、地址", "CSV", "unconditional",
     "unconditional", "quarterly", None, None),
    ("RES-WJJ-002", "wjj", "出生医学证明信息", "新生儿姓名、出生日期、出生地点、母亲身份号码", "JSON", "restricted",
     "forbidden", "daily", "含个人健康信息", "《中华人民共和国母婴保健法》"),
    ("RES-MZJ-001", "mzj", "最低生活保障对象信息", "户主姓名、家庭人口、保障金额、所在乡镇", "JSON", "restricted",
     "restricted", "monthly", "含困难群众个人信息", "《社会救助暂行办法》"),
    ("RES-ZRZYJ-001", "zrzyj", "不动产登记信息", "不动产单元号、权利人、坐落、面积", "JSON", "non_shared",
     "forbidden", "realtime", None, "《不动产登记暂行条例》第二十七条"),
    ("RES-ZJJ-001", "zjj", "建筑施工企业资质信息", "企业名称、资质类别、等级、有效期", "XML", "unconditional",
     "unconditional", "monthly", None, None),
]

# Art. 20: data not yet collected into the sharing system; the source answers requests within 7 WD.
NOT_COLLECTED = {"RES-ZJJ-001", "RES-WJJ-002"}
# Art. 16: modes a resource offers, where not all three.
SHARE_MODES = {"RES-GAJ-001": ["verification", "query"], "RES-RSJ-001": ["verification", "query"]}
# Art. 29: the ground each forbidden entry was classed on; the other entries outside the open scope
# are "unopened" (未开放), which the public may ask to have listed (Art. 32).
FORBIDDEN_GROUNDS = {"RES-GAJ-001": "secret_or_privacy", "RES-WJJ-002": "secret_or_privacy", "RES-ZRZYJ-001": "law"}


def secrecy_reviewer(owner: str) -> str:
    """Art. 39: each demo entry's 保密审查 was done by its department's daily administrator."""
    return next(people[2][1] for code, _, _, people in DEPARTMENTS if code == owner)


def seed_demo_county() -> tuple[int, int]:
    """Write the demo county; safe to run again (nothing is written twice). Returns (departments, entries)."""
    with session() as s:
        for code, name, kind, people in DEPARTMENTS:
            insert_ignore(s, Department, {"code": code, "name": name, "kind": kind}, ["code"])
            for (pid, pname), role in zip(people, ROLES, strict=True):
                user = pid.split(".")[1]
                insert_ignore(
                    s,
                    Person,
                    {
                        "id": pid,
                        "name": pname,
                        "email": f"{user}@{code}.yongjia.example",
                        "mobile": f"1380577{zlib.crc32(pid.encode()) % 10000:04d}",
                        "dingtalk_id": f"dt-{pid}",
                    },
                    ["id"],
                )
                held = select(RoleAssignment).where(
                    RoleAssignment.dept_code == code, RoleAssignment.role == role
                )
                if s.exec(held).first() is None:
                    s.add(RoleAssignment(dept_code=code, role=role, person_id=pid, note="示例县初始备案"))
        s.flush()
        for rid, owner, name, content, enc, share, open_, freq, reason, basis in CATALOG:
            items = content.split("、")
            modes = SHARE_MODES.get(rid, ["verification", "query", "batch"])
            resource = {"id": rid, "owner_code": owner, "current_version": 1, "collected": rid not in NOT_COLLECTED,
                        "items": items, "share_modes": modes}
            if insert_ignore(s, DataResource, resource, ["id"]):
                s.add(
                    CatalogVersion(
                        resource_id=rid, version=1, is_current=True, name=name, content=content,
                        encoding_format=enc, provider_code=owner, share_attribute=share, open_attribute=open_,
                        update_frequency=freq, share_reason=reason, share_basis=basis,
                        forbidden_ground=FORBIDDEN_GROUNDS.get(rid), items=items, share_modes=modes,
                        secrecy_reviewer=secrecy_reviewer(owner), secrecy_reviewed_on=date(2026, 1, 5),
                        secrecy_conclusion="no_state_secret",
                    )
                )
    return len(DEPARTMENTS), len(CATALOG)
