"""Checks of an applicant's identity number and contact (Art. 28, Art. 32).

Pure functions on the standard library only, so that anything may import them cheaply. Each check
returns None when the value is valid, else one line in Chinese naming the field and the rule it
breaks. The messages never repeat the value: it is personal data and error messages may be logged.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = [
    "USCC_ALPHABET",
    "contact_problem",
    "id_number_problem",
    "normalise_id_number",
    "resident_id_check",
    "uscc_check",
]

ID_FIELD = "证件号码（id_number）"
CONTACT_FIELD = "联系方式（contact）"

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK = "10X98765432"  # indexed by the weighted sum mod 11
_RESIDENT_RE = re.compile(r"[0-9]{17}[0-9X]")

# GB 32100-2015: 31 characters (no I, O, Z, S, V), check character mod 31.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_DOCUMENT_RE = re.compile(r"[A-Z0-9-]{5,30}")  # passport and other documents, after normalising

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_FIXED_LINE_RE = re.compile(r"(0[0-9]{2,3}-?)?[2-9][0-9]{6,7}")
_BLANK_RE = re.compile(r"\s")

_EARLIEST_BIRTH = date(1900, 1, 1)


def normalise_id_number(id_type: str, number: str) -> str:
    """The number as stored: surrounding blanks removed, letters upper-cased (a lower-case x check digit)."""
    return (number or "").strip().upper()


def resident_id_check(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident identity number."""
    return _RESIDENT_CHECK[sum(int(d) * w for d, w in zip(first17, _RESIDENT_WEIGHTS, strict=True)) % 11]


def uscc_check(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a unified social credit code."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _resident_id_problem(number: str, today: date) -> str | None:
    if len(number) != 18:
        return f"{ID_FIELD}长度不符：居民身份证号码须为 18 位（GB 11643），现为 {len(number)} 位"
    if not _RESIDENT_RE.fullmatch(number):
        return f"{ID_FIELD}格式不符：居民身份证号码须为 17 位数字加 1 位校验码（数字或 X）"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"{ID_FIELD}出生日期无效：居民身份证号码第 7–14 位须为真实的出生日期（年月日）"
    if born < _EARLIEST_BIRTH or born > today:
        return f"{ID_FIELD}出生日期无效：居民身份证号码的出生日期须在 1900 年 1 月 1 日至今天之间"
    if resident_id_check(number[:17]) != number[17]:
        return f"{ID_FIELD}校验位不符：居民身份证号码须符合 GB 11643 的校验规则"
    return None


def _uscc_problem(number: str) -> str | None:
    if len(number) != 18:
        return f"{ID_FIELD}长度不符：统一社会信用代码须为 18 位（GB 32100），现为 {len(number)} 位"
    if any(c not in USCC_ALPHABET for c in number):
        return f"{ID_FIELD}格式不符：统一社会信用代码只能由数字和大写字母组成，且不含 I、O、Z、S、V（GB 32100）"
    if uscc_check(number[:17]) != number[17]:
        return f"{ID_FIELD}校验位不符：统一社会信用代码须符合 GB 32100 的校验规则"
    return None


def id_number_problem(id_type: str, number: str, *, today: date | None = None) -> str | None:
    """What is wrong with an identity number of the given type, or None if it is valid.

    id_type is one of resident_id (居民身份证, GB 11643-1999), uscc (统一社会信用代码, GB 32100-2015),
    passport (护照) or other (其他证件). The number is normalised first (normalise_id_number), so a
    lower-case x check digit is accepted. today is the date birth dates may not pass (default: today).
    """
    number = normalise_id_number(id_type, number)
    if not number:
        return f"{ID_FIELD}不能为空"
    if id_type == "resident_id":
        return _resident_id_problem(number, today or date.today())
    if id_type == "uscc":
        return _uscc_problem(number)
    if id_type in ("passport", "other"):
        if not _DOCUMENT_RE.fullmatch(number):
            kind = "护照号码" if id_type == "passport" else "其他证件号码"
            return f"{ID_FIELD}格式不符：{kind}须为 5–30 位字母、数字或连字符（-）"
        return None
    return f"证件类型（id_type）“{id_type}”无效，应为 resident_id、passport、uscc 或 other"


def _email_ok(value: str) -> bool:
    """A practical check, not RFC 5322: one @, something before it, a domain of dotted non-empty parts."""
    if value.count("@") != 1 or _BLANK_RE.search(value):
        return False
    local, domain = value.split("@")
    return bool(local) and len(domain.split(".")) >= 2 and all(domain.split("."))


def contact_problem(value: str) -> str | None:
    """What is wrong with a contact, or None if it is a mainland mobile number (13905770000), a
    fixed-line number with or without its area code (0577-67221234, 057767221234, 67221234) or an
    email address (a practical check: one @, a dot in the domain, no blanks)."""
    value = (value or "").strip()
    if not value:
        return f"{CONTACT_FIELD}不能为空"
    if "@" in value:
        if _email_ok(value):
            return None
        return f"{CONTACT_FIELD}格式不符：电子邮箱须形如 name@example.com（一个 @，域名含“.”，不含空格）"
    if _MOBILE_RE.fullmatch(value) or _FIXED_LINE_RE.fullmatch(value):
        return None
    return (f"{CONTACT_FIELD}格式不符：须为手机号码（11 位数字，以 13–19 开头）、固定电话（7–8 位，"
            "可带区号，如 0577-67221234）或电子邮箱")
