"""Payload encryption for everything pdw writes to Temporal (issue 11): inputs, results, update
arguments, query results, summaries and failures are ciphertext in history.

A payload is encrypted whole (its metadata and data, serialized) with the current key; the key id
and the cipher travel in the new payload's metadata, so a worker holding several keys reads cases
started before a rotation. A payload without that metadata is decoded as is: histories written
before encryption was switched on still read. AES-256-GCM by default; SM4-GCM (GB/T 32907, the
national algorithm 商用密码 assessment asks for) per key. docs/operations.md: keys, rotation, backup.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

if TYPE_CHECKING:
    from temporalio.converter import DataConverter

    from settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
CIPHER = "encryption-cipher"
KEY_BYTES = {"aes-256-gcm": 32, "sm4-gcm": 16}
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_FILE = "codec-keys.json"


class CodecError(ValueError):
    """A payload that cannot be decrypted: unknown key, wrong cipher, or altered ciphertext."""


class CodecConfigError(Exception):
    """The keys are missing or malformed; said in one Chinese line."""


@dataclass(frozen=True)
class Key:
    id: str
    cipher: str
    secret: bytes


def _encrypt(key: Key, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if key.cipher == "aes-256-gcm":
        return AESGCM(key.secret).encrypt(nonce, plaintext, aad)
    # cryptography has no one-shot AEAD class for SM4: GCM through the Cipher interface.
    encryptor = Cipher(algorithms.SM4(key.secret), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _decrypt(key: Key, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        if key.cipher == "aes-256-gcm":
            return AESGCM(key.secret).decrypt(nonce, sealed, aad)
        if len(sealed) < TAG_BYTES:
            raise InvalidTag
        decryptor = Cipher(algorithms.SM4(key.secret), modes.GCM(nonce, sealed[-TAG_BYTES:])).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(sealed[:-TAG_BYTES]) + decryptor.finalize()
    except InvalidTag as err:
        raise CodecError(f"载荷解密失败（密钥 {key.id}，{key.cipher}）：密文已被改动或密钥不符") from err


def _aad(key_id: str, cipher: str) -> bytes:
    # The metadata is authenticated too: relabelling a payload's key or cipher fails the tag.
    return f"pdw/{key_id}/{cipher}".encode()


class EncryptionCodec(PayloadCodec):
    """Encrypts with the current key, decrypts with whichever key a payload names."""

    def __init__(self, keys: Sequence[Key], current: str) -> None:
        self.keys = {k.id: k for k in keys}
        if current not in self.keys:
            raise CodecConfigError(f"当前载荷加密密钥 {current} 不在 PDW_CODEC_KEYS 中")
        self.current = self.keys[current]

    def encrypt(self, payload: Payload) -> Payload:
        key, nonce = self.current, os.urandom(NONCE_BYTES)
        sealed = _encrypt(key, nonce, payload.SerializeToString(), _aad(key.id, key.cipher))
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key.id.encode(), CIPHER: key.cipher.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption, or by a client without it
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = payload.metadata.get(CIPHER, b"").decode(errors="replace")
        key = self.keys.get(key_id)
        if key is None:
            raise CodecError(f"载荷由密钥 {key_id!r} 加密，但该密钥未配置：请在 PDW_CODEC_KEYS 中保留轮换前的全部密钥"
                             "（docs/operations.md）")
        if cipher != key.cipher:
            raise CodecError(f"载荷标明的算法 {cipher!r} 与密钥 {key_id} 的算法 {key.cipher} 不符")
        data = payload.data
        plaintext = _decrypt(key, data[:NONCE_BYTES], data[NONCE_BYTES:], _aad(key_id, cipher))
        return Payload.FromString(plaintext)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]


def _parse_keys(raw: dict[str, dict[str, str]], current: str | None, where: str) -> EncryptionCodec:
    keys = []
    for key_id, spec in raw.items():
        cipher = spec.get("cipher", "aes-256-gcm")
        if cipher not in KEY_BYTES:
            raise CodecConfigError(f"{where} 中密钥 {key_id} 的算法 {cipher!r} 不受支持（aes-256-gcm 或 sm4-gcm）")
        try:
            secret = base64.b64decode(spec.get("key", ""), validate=True)
        except (binascii.Error, ValueError) as err:
            raise CodecConfigError(f"{where} 中密钥 {key_id} 不是有效的 base64") from err
        if len(secret) != KEY_BYTES[cipher]:
            raise CodecConfigError(f"{where} 中密钥 {key_id} 须为 {KEY_BYTES[cipher]} 字节（{cipher}），现为 {len(secret)} 字节")
        keys.append(Key(key_id, cipher, secret))
    if not current:  # unset, or empty from docker-compose's default
        if len(keys) != 1:
            raise CodecConfigError(f"{where} 有多个密钥：请用 PDW_CODEC_KEY_ID 指定当前密钥")
        current = keys[0].id
    return EncryptionCodec(keys, current)


def codec_for(settings: Settings) -> EncryptionCodec:
    """The codec from PDW_CODEC_KEYS, else from the dev key file under $PDW_HOME; none is an error
    (a worker that silently wrote plaintext would undo the point)."""
    if settings.codec_keys:
        raw = {k: v.model_dump() for k, v in settings.codec_keys.items()}
        return _parse_keys(raw, settings.codec_key_id, "PDW_CODEC_KEYS")
    path = settings.home / KEY_FILE
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CodecConfigError(f"无法读取载荷加密密钥文件 {path}") from err
        return _parse_keys(stored.get("keys", {}), settings.codec_key_id or stored.get("current"), str(path))
    raise CodecConfigError(
        "未配置载荷加密密钥：生产环境请设置 PDW_CODEC_KEYS 与 PDW_CODEC_KEY_ID（docs/operations.md）；"
        "开发环境运行 pdw dev 或 pdw setup 会在 PDW_HOME 中生成开发密钥"
    )


def ensure_dev_key(settings: Settings) -> Path | None:
    """For ``pdw dev`` and ``pdw setup`` on a machine with no keys configured: write one AES-256 key
    to $PDW_HOME/codec-keys.json (owner-only). Returns the file if it was written now."""
    path = settings.home / KEY_FILE
    if settings.codec_keys or path.exists():
        return None
    settings.home.mkdir(parents=True, exist_ok=True)
    body = {"current": "dev-1", "keys": {"dev-1": {"key": new_key("aes-256-gcm"), "cipher": "aes-256-gcm"}}}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(body, out, indent=2)
    return path


def new_key(cipher: str = "aes-256-gcm") -> str:
    """A fresh key for PDW_CODEC_KEYS, base64."""
    return base64.b64encode(os.urandom(KEY_BYTES[cipher])).decode()


def data_converter(settings: Settings) -> DataConverter:
    """pydantic's converter with the codec, and failures' messages and stack traces moved into an
    encoded (hence encrypted) attribute: validator refusals name staff."""
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

    return dataclasses.replace(pydantic_data_converter, payload_codec=codec_for(settings),
                               failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
