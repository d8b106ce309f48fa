"""Departments and the three people each registers with the center (Art. 43)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class DeptKind(StrEnum):
    center = "center"  # type: ignore[assignment]  # 县大数据管理中心; the member shadows str.center
    department = "department"  # 公共管理和服务机构
    county_gov = "county_gov"  # 县人民政府
    city_bureau = "city_bureau"  # 市大数据发展管理局
    expert_committee = "expert_committee"  # 专家委员会
    bureau = "bureau"  # 县大数据发展管理局: the center's competent authority (Art. 4), hears its escalations


class PersonRole(StrEnum):
    """Art. 43: every department registers these three with the center."""

    first_responsible = "first_responsible"
    leader_in_charge = "leader_in_charge"
    daily_admin = "daily_admin"


ROLE_ZH: dict[PersonRole, str] = {
    PersonRole.first_responsible: "主要负责人",
    PersonRole.leader_in_charge: "分管领导",
    PersonRole.daily_admin: "日常管理人员",
}


class Department(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=32)
    name: str
    kind: str = Field(default=DeptKind.department, max_length=32)


class Person(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str
    email: str | None = None
    mobile: str | None = None
    dingtalk_id: str | None = None


class RoleAssignment(SQLModel, table=True):
    """Who holds an Art. 43 role in a department, since when; a replaced holder keeps their row
    with ``until`` set, so the change is kept (Art. 43 ¶2)."""

    __tablename__ = "role_assignment"

    id: int | None = Field(default=None, primary_key=True)
    dept_code: str = Field(foreign_key="department.code", index=True, max_length=32)
    role: str = Field(max_length=32)
    person_id: str = Field(foreign_key="person.id", max_length=64)
    since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = None


class Actor(BaseModel):
    """A registered person acting in a case, resolved from the store by whoever calls the workflow."""

    person_id: str
    name: str
    dept_code: str
    dept_name: str
    dept_kind: str
    roles: list[str] = []

    def label(self) -> str:
        # A member of the public's name already carries its masked id in brackets.
        return f"公众{self.name}" if self.dept_kind == "public" else f"{self.name}（{self.dept_name}）"
