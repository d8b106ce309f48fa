"""Identity numbers (GB 11643-1999, GB 32100-2015) and contacts of applicants for open data (Art. 28, 32)."""

from __future__ import annotations

from datetime import date

import pytest

from models.identity import (
    contact_problem,
    id_number_problem,
    normalise_id_number,
    resident_id_check,
    uscc_check,
)

TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    "number",
    [
        "330324199001011233",  # the README's example
        "330324198805056782",
        "330324197707071116",
        "33032420000229105X",  # 29 February of a leap year; X check digit
        "33032420000229105x",  # lower-case x is accepted
        " 330324199001011233 ",  # surrounding blanks are stripped
        "11010519491231002X",  # the standard's own example
        "33032419000101123" + resident_id_check("33032419000101123"),  # the earliest birth date
        "33032420260302123" + resident_id_check("33032420260302123"),  # born today
    ],
)
def test_valid_resident_ids(number: str) -> None:
    assert id_number_problem("resident_id", number, today=TODAY) is None


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("330324199001011234", "校验位不符：居民身份证号码须符合 GB 11643 的校验规则"),  # the old README example
        ("330324198805056789", "校验位不符"),
        ("330324197707071111", "校验位不符"),
        ("330324199001011232", "校验位不符"),
        ("33032419900101123", "长度不符：居民身份证号码须为 18 位（GB 11643），现为 17 位"),
        ("3303241990010112330", "现为 19 位"),
        ("330324900101123", "现为 15 位"),  # first-generation numbers are not accepted
        ("33032419900101123Y", "格式不符"),
        ("3303241990O101123X", "格式不符"),
        ("33032419900230" + "123" + resident_id_check("33032419900230123"), "出生日期无效"),  # 30 February
        ("33032419901301" + "123" + resident_id_check("33032419901301123"), "出生日期无效"),  # month 13
        ("33032418991231" + "123" + resident_id_check("33032418991231123"), "1900 年 1 月 1 日至今天"),
        ("33032420260303" + "123" + resident_id_check("33032420260303123"), "1900 年 1 月 1 日至今天"),  # tomorrow
        ("", "不能为空"),
        ("   ", "不能为空"),
    ],
)
def test_invalid_resident_ids(number: str, words: str) -> None:
    problem = id_number_problem("resident_id", number, today=TODAY)
    assert problem is not None and problem.startswith("证件号码（id_number）") and words in problem
    assert number.strip() == "" or number.strip() not in problem  # personal data is not repeated


def test_resident_id_check_digit_is_iso_7064_mod_11_2() -> None:
    assert resident_id_check("11010519491231002") == "X"
    assert resident_id_check("33032419900101123") == "3"


def test_birth_dates_are_checked_against_today_by_default() -> None:
    future = f"330324{date.today().year + 1}0101123"
    assert "出生日期无效" in (id_number_problem("resident_id", future + resident_id_check(future)) or "")


def test_normalise() -> None:
    assert normalise_id_number("resident_id", " 33032420000229105x\n") == "33032420000229105X"
    assert normalise_id_number("passport", "e12345678") == "E12345678"


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91330324MA2ABCDEF8", "91330324ma2abcdef8",
                                  "12330324" + "002512345" + uscc_check("12330324002512345")])
def test_valid_uscc(code: str) -> None:
    assert id_number_problem("uscc", code) is None


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91350100M000100Y44", "校验位不符：统一社会信用代码须符合 GB 32100 的校验规则"),
        ("91330324MA2ABCDEF0", "校验位不符"),
        ("91330324MA2ABCDEF", "长度不符：统一社会信用代码须为 18 位（GB 32100），现为 17 位"),
        ("91330324MA2ABCDEFGH", "现为 19 位"),
        ("91330324MA2ABCDEI8", "不含 I、O、Z、S、V"),  # I is not in the code alphabet
        ("91330324MA2ABCDEO8", "不含 I、O、Z、S、V"),
        ("91330324MA2ABC-EF8", "格式不符"),
    ],
)
def test_invalid_uscc(code: str, words: str) -> None:
    problem = id_number_problem("uscc", code)
    assert problem is not None and problem.startswith("证件号码（id_number）") and words in problem


@pytest.mark.parametrize("id_type", ["passport", "other"])
@pytest.mark.parametrize("number", ["E12345678", "e1234567", "G1234", "AB-123456", "1" * 30])
def test_valid_other_documents(id_type: str, number: str) -> None:
    assert id_number_problem(id_type, number) is None


@pytest.mark.parametrize("id_type", ["passport", "other"])
@pytest.mark.parametrize("number", ["E123", "1" * 31, "E1234 5678", "E1234_5678", "护照E1234567", "E12345678!"])
def test_invalid_other_documents(id_type: str, number: str) -> None:
    problem = id_number_problem(id_type, number)
    assert problem is not None and "证件号码（id_number）格式不符" in problem and "5–30 位" in problem


def test_unknown_id_type() -> None:
    assert "证件类型（id_type）“driving_licence”无效" in (id_number_problem("driving_licence", "E12345678") or "")


@pytest.mark.parametrize(
    "contact",
    [
        "13905770000", "19912345678", " 13800001111 ",  # mobiles
        "0577-67221234", "057767221234", "010-62345678", "0577-6722123", "67221234", "6722123",  # fixed lines
        "zhangsan@example.com", "zhang.san+open@mail.yj.gov.cn", "用户@例子.中国",  # email
    ],
)
def test_valid_contacts(contact: str) -> None:
    assert contact_problem(contact) is None


@pytest.mark.parametrize(
    ("contact", "words"),
    [
        ("12905770000", "手机号码"),  # no mobile network starts 12
        ("1390577000", "手机号码"),  # 10 digits
        ("139057700000", "手机号码"),  # 12 digits
        ("139 0577 0000", "手机号码"),
        ("0577-672212", "固定电话"),  # 6 digits
        ("0577-672212345", "固定电话"),  # 9 digits
        ("0577--67221234", "固定电话"),
        ("01234567", "固定电话"),  # a local number does not start 0
        ("x", "电子邮箱"),
        ("zhangsan@example", "电子邮箱须形如"),  # no dot in the domain
        ("zhang@san@example.com", "电子邮箱须形如"),
        ("zhang san@example.com", "电子邮箱须形如"),
        ("@example.com", "电子邮箱须形如"),
        ("zhangsan@.example.com", "电子邮箱须形如"),
        ("zhangsan@example.com.", "电子邮箱须形如"),
        ("", "不能为空"),
    ],
)
def test_invalid_contacts(contact: str, words: str) -> None:
    problem = contact_problem(contact)
    assert problem is not None and problem.startswith("联系方式（contact）") and words in problem


def test_the_module_stays_cheap() -> None:
    import ast
    from pathlib import Path

    import models.identity

    tree = ast.parse(Path(models.identity.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "re", "datetime"}
