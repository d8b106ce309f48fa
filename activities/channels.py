"""Delivery channels for notices: SMTP email and a DingTalk-style custom robot webhook. Each send
either succeeds or raises; retrying is the delivery workflow's job."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.request
from email.message import EmailMessage
from urllib.parse import quote_plus

from settings import Settings


class ChannelError(Exception):
    """The channel refused or could not take the message; it may work on a later try."""


def send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.smtp_from, to, subject
    msg.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(msg)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: HMAC-SHA256 of ``timestamp + "\\n" + secret`` keyed by the secret, base64."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def send_webhook(settings: Settings, title: str, text: str, at_mobiles: list[str]) -> None:
    """Post a markdown message to a DingTalk-style custom robot, @-ing the recipients."""
    if not settings.webhook_url:
        raise ChannelError("未配置 PDW_WEBHOOK_URL")
    url = settings.webhook_url
    if settings.webhook_secret:
        ts = int(time.time() * 1000)
        sign = quote_plus(dingtalk_sign(settings.webhook_secret, ts))
        url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sign}"
    mentions = " ".join(f"@{m}" for m in at_mobiles)
    payload = {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": f"#### {title}\n\n{text}\n\n{mentions}".strip()},
        "at": {"atMobiles": at_mobiles, "isAtAll": False},
    }
    request = urllib.request.Request(
        url, data=json.dumps(payload, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            answer = json.loads(response.read() or b"{}")
    except (OSError, ValueError) as err:
        raise ChannelError(f"webhook: {err}") from err
    if answer.get("errcode", 0) != 0:
        raise ChannelError(f"webhook errcode {answer.get('errcode')}: {answer.get('errmsg')}")


def sms_sign(secret: str, timestamp: str, body: bytes) -> str:
    """The SMS gateway's signature: hex HMAC-SHA256 of ``timestamp + "\\n" + body`` keyed by the secret."""
    return hmac.new(secret.encode(), timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()


def send_sms(settings: Settings, mobile: str, text: str) -> None:
    """Post one text message to the SMS gateway's webhook: JSON ``{"mobile", "text"}``, signed when a
    secret is set (X-Pdw-Timestamp, X-Pdw-Signature). Any 2xx answer not saying otherwise is taken;
    a JSON answer with ``ok: false`` or a non-zero ``errcode``/``code`` is a failure."""
    if not settings.sms_url:
        raise ChannelError("未配置 PDW_SMS_URL")
    body = json.dumps({"mobile": mobile, "text": text}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if settings.sms_secret:
        ts = str(int(time.time()))
        headers.update({"X-Pdw-Timestamp": ts, "X-Pdw-Signature": sms_sign(settings.sms_secret, ts, body)})
    request = urllib.request.Request(settings.sms_url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            raw = response.read()
    except OSError as err:  # refused, timed out, an HTTP error status: the message never names the mobile
        raise ChannelError(f"sms gateway: {type(err).__name__}") from err
    try:
        answer = json.loads(raw) if raw else {}
    except ValueError:
        answer = {}
    fine = (0, "0", "OK", "ok", None)
    if isinstance(answer, dict) and (answer.get("ok") is False or answer.get("errcode") not in fine
                                     or answer.get("code") not in fine):
        raise ChannelError(f"sms gateway refused: {answer.get('errmsg') or answer.get('message') or answer}")

