"""Issue 11: payloads are ciphertext in history (AES-256-GCM, SM4-GCM), keys rotate without
stranding running cases, and the Temporal UI reads them through the API's codec endpoint."""

from __future__ import annotations

import base64
import json
import stat
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import MarkerRecordedEventAttributes
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from codec import (
    CIPHER,
    ENCODING,
    KEY_ID,
    CodecConfigError,
    CodecError,
    EncryptionCodec,
    Key,
    codec_for,
    data_converter,
    ensure_dev_key,
    new_key,
)
from models.catalog import CatalogUpdateInput
from service.context import Services
from settings import Settings, get_settings
from tests.helpers import ROTATION_KEYS, decision, wait_status

NAME, REASON = "周伟", "口径说明缺少统计截止日期请补正"
AES, SM4 = ROTATION_KEYS


def plain(text: str) -> Payload:
    return data_converter(get_settings()).payload_converter.to_payloads([{"who": text}])[0]


@pytest.mark.parametrize("key", [AES, SM4], ids=["aes-256-gcm", "sm4-gcm"])
async def test_round_trip_for_both_ciphers_hides_the_plaintext(key: Key) -> None:
    codec = EncryptionCodec([key], key.id)
    original = plain(NAME)
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == key.id.encode() and sealed.metadata[CIPHER] == key.cipher.encode()
    assert NAME.encode() not in sealed.SerializeToString() and b"json/plain" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [original]
    [again] = await codec.encode([original])
    assert again.data != sealed.data  # a fresh nonce each time


async def test_tampered_ciphertext_or_relabelled_metadata_is_refused() -> None:
    codec = EncryptionCodec([AES, SM4], AES.id)
    [sealed] = await codec.encode([plain(NAME)])
    flipped = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(CodecError, match="密文已被改动"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k-sm4", CIPHER: b"sm4-gcm"}, data=sealed.data)
    with pytest.raises(CodecError):
        await codec.decode([relabelled])
    cipher_only = Payload(metadata={**sealed.metadata, CIPHER: b"sm4-gcm"}, data=sealed.data)
    with pytest.raises(CodecError, match="算法"):
        await codec.decode([cipher_only])


async def test_unknown_key_id_says_which_key_is_missing_and_plaintext_passes_through() -> None:
    [sealed] = await EncryptionCodec([SM4], SM4.id).encode([plain(NAME)])
    with pytest.raises(CodecError, match="k-sm4.*未配置"):
        await EncryptionCodec([AES], AES.id).decode([sealed])
    old = plain("加密启用前写入的历史")
    assert await EncryptionCodec([AES], AES.id).decode([old]) == [old]


def test_keys_from_settings_or_the_dev_key_file_and_none_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PDW_CODEC_KEYS")
    monkeypatch.delenv("PDW_CODEC_KEY_ID")
    bare = Settings(home=tmp_path / "none")
    with pytest.raises(CodecConfigError, match="未配置载荷加密密钥"):
        codec_for(bare)
    written = ensure_dev_key(bare)
    assert written is not None and stat.S_IMODE(written.stat().st_mode) == 0o600
    assert codec_for(bare).current.cipher == "aes-256-gcm" and ensure_dev_key(bare) is None
    two = {"a": {"key": new_key()}, "b": {"key": new_key("sm4-gcm"), "cipher": "sm4-gcm"}}
    with pytest.raises(CodecConfigError, match="PDW_CODEC_KEY_ID"):
        codec_for(Settings.model_validate({"home": tmp_path, "codec_keys": two}))
    assert codec_for(Settings.model_validate({"home": tmp_path, "codec_keys": two, "codec_key_id": "b"})).current.id == "b"
    short = {"a": {"key": base64.b64encode(b"x" * 16).decode()}}
    with pytest.raises(CodecConfigError, match="32 字节"):
        codec_for(Settings.model_validate({"home": tmp_path, "codec_keys": short}))


async def test_failure_messages_travel_encrypted() -> None:
    """Validator refusals and activity errors name staff: their message is an encrypted attribute."""
    converter = data_converter(get_settings())
    failure = Failure()
    await converter.encode_failure(ApplicationError(f"{NAME}不是县大数据管理中心人员"), failure)
    assert failure.message == "Encoded failure" and NAME.encode() not in failure.SerializeToString()
    assert f"{NAME}不是" in str(await converter.decode_failure(failure))


def converter_with(keys: list[Key], current: str) -> Settings:
    spec = {k.id: {"key": base64.b64encode(k.secret).decode(), "cipher": k.cipher} for k in keys}
    return Settings.model_validate({"codec_keys": spec, "codec_key_id": current})


async def test_a_case_started_under_key_1_finishes_under_key_2_and_history_holds_no_plaintext(
    env: WorkflowEnvironment,
) -> None:
    from worker import build_worker

    queue, case_id = f"pdw-rotate-{uuid.uuid4().hex[:6]}", f"catalog-rotate-{uuid.uuid4().hex[:6]}"
    base = env.client

    def client(settings: Settings) -> Client:
        return Client(base.service_client, namespace=base.namespace, data_converter=data_converter(settings))

    before, after = client(converter_with([AES], AES.id)), client(converter_with([AES, SM4], SM4.id))
    now = await env.get_current_time()
    inp = CatalogUpdateInput(case_id=case_id, resource_id="RES-GAJ-002", changed_at=now,
                             change_note="号牌号码口径调整", changed_elements=["content"],
                             started_by=decision("x", "gaj.zhangfang").actor)
    with ThreadPoolExecutor(max_workers=16) as executor:
        # Key 1 only. No sticky cache: the time-skipping server's clock is locked, so a task left on
        # this worker's sticky queue would never time out to the next worker.
        async with build_worker(before, queue, executor, max_cached_workflows=0):
            handle = await before.start_workflow("CatalogUpdate", inp, id=case_id, task_queue=queue)
            await wait_status(handle, "awaiting_submission")
            await handle.execute_update("decide", decision("submit", "gaj.zhangfang", data={"update_frequency": "weekly"}))
            await wait_status(handle, "under_review")
        async with build_worker(after, queue, executor):  # both keys, key 2 current
            handle = after.get_workflow_handle(case_id)
            await handle.execute_update("decide", decision("return", "dsj.zhouwei", reasons=REASON))
            await wait_status(handle, "awaiting_submission")
            await handle.execute_update("decide", decision("submit", "gaj.zhangfang", data={"update_frequency": "monthly"}))
            await wait_status(handle, "under_review")
            await handle.execute_update("decide", decision("approve", "dsj.zhouwei"))
            result = await handle.result()
            state = await handle.query("state")
    assert result["status"] == "approved" and REASON in json.dumps(state, ensure_ascii=False)

    history = await handle.fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    for secret in (NAME, REASON, "号牌号码口径调整", "林晓红", "张芳"):
        assert secret.encode() not in raw, secret
    payloads = [p for event in history.events for p in _payloads_of(event)]
    plain = [(e.event_type, p) for e in history.events for p in _payloads_of(e) if p.metadata["encoding"] != ENCODING]
    assert payloads and not plain, plain[:3]
    assert {p.metadata[KEY_ID] for p in payloads} == {b"k-aes", b"k-sm4"}
    # The same bytes, decoded with the keys, do hold them: the check above looks in the right place.
    opened = b"".join(p.SerializeToString() for p in await EncryptionCodec([AES, SM4], SM4.id).decode(payloads))
    assert NAME.encode() in opened and REASON.encode() in opened


CORE_MARKER_DATA = {"data", "patch-data"}


def _payloads_of(message: Message) -> list[Payload]:
    """Every Payload anywhere inside a history event (inputs, results, memo, summaries, failures)."""
    found: list[Payload] = []
    if isinstance(message, Payload):
        return [message]
    if isinstance(message, MarkerRecordedEventAttributes):
        # The SDK core's own bookkeeping, json in the clear and never through a codec: a local
        # activity's type, sequence and times ("data"), a patch's id ("patch-data"). Its result is
        # a payload of ours and is checked (the raw scan above covers the bookkeeping too).
        return [p for key, ps in message.details.items() if key not in CORE_MARKER_DATA for p in ps.payloads] + (
            _payloads_of(message.failure) if message.HasField("failure") else [])
    for field, value in message.ListFields():
        if field.name == "search_attributes":
            continue  # indexed in the clear by design; they carry codes, never personal data
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
        else:
            items = [value] if isinstance(value, Message) else list(value)
        for item in items:
            if isinstance(item, Message):
                found += _payloads_of(item)
    return found


@pytest.fixture
async def ui(env: WorkflowEnvironment) -> httpx.AsyncClient:
    from hook import create_app

    settings = get_settings().model_copy(update={"ui_base_url": "http://ui.example:8233"})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(Services(settings, client=env.client))),
                             base_url="http://127.0.0.1:8000")


async def test_the_codec_endpoint_decodes_for_the_ui_origin_only(ui: httpx.AsyncClient) -> None:
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payloads

    sealed = await codec_for(get_settings()).encode([plain(NAME)])
    body = json_format.MessageToDict(Payloads(payloads=sealed))
    origin = {"Origin": "http://ui.example:8233", "X-Namespace": "default"}
    async with ui:
        answer = await ui.post("/codec/decode", json=body, headers=origin)
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == origin["Origin"]
        [decoded] = json_format.ParseDict(answer.json(), Payloads()).payloads
        assert json.loads(decoded.data) == {"who": NAME}
        encoded = await ui.post("/codec/encode", json=answer.json(), headers=origin)
        assert json_format.ParseDict(encoded.json(), Payloads()).payloads[0].metadata["encoding"] == ENCODING

        preflight = {"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type,x-namespace"}
        refused = await ui.options("/codec/decode", headers=preflight)
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
        allowed = await ui.options("/codec/decode", headers={**preflight, "Origin": origin["Origin"]})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == origin["Origin"]
        other = await ui.post("/codec/decode", json=body, headers={"Origin": "http://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers  # the browser withholds the answer
        # Nothing else in the API is cross-origin.
        docs = await ui.get("/openapi.json", headers=origin)
        assert "access-control-allow-origin" not in docs.headers and "/codec/decode" not in docs.text

        bad = await ui.post("/codec/decode", content=b"{not json", headers=origin)
        assert bad.status_code == 400


async def test_the_codec_endpoint_answers_loopback_only_in_dev(env: WorkflowEnvironment) -> None:
    from hook import create_app

    sealed = await codec_for(get_settings()).encode([plain(NAME)])
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payloads

    body = json_format.MessageToDict(Payloads(payloads=sealed))
    for mode, expected in (("loopback", 403), ("open", 200), ("off", 404)):
        app = create_app(Services(get_settings().model_copy(update={"codec_endpoint": mode}), client=env.client))
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://pdw.test") as remote:
            assert (await remote.post("/codec/decode", json=body)).status_code == expected, mode
