"""The dispatch payload hook writes a dispatched job's payload into the task's local dir."""

from __future__ import annotations

import base64
import os

import pytest

from pynomad.client.dispatch_hook import DispatchPayloadError, write_dispatch_payload
from pynomad.structs import DispatchPayload, Job, Task


def _job(payload: bytes | None) -> Job:
    return Job(ID="fn/dispatch-1-abcd", Dispatched=True,
               Payload=base64.b64encode(payload).decode() if payload is not None else None)


def test_payload_written_under_local(tmp_path):
    task = Task(Name="t", DispatchPayload=DispatchPayload(File="in/config.json"))
    path = write_dispatch_payload(task, _job(b'{"a": 1}'), str(tmp_path))
    assert path == os.path.join(str(tmp_path), "in", "config.json")
    with open(path, "rb") as f:
        assert f.read() == b'{"a": 1}'


def test_nothing_to_write(tmp_path):
    with_block = Task(Name="t", DispatchPayload=DispatchPayload(File="x"))
    assert write_dispatch_payload(with_block, _job(None), str(tmp_path)) is None
    assert write_dispatch_payload(with_block, None, str(tmp_path)) is None
    assert write_dispatch_payload(Task(Name="t"), _job(b"data"), str(tmp_path)) is None
    assert os.listdir(tmp_path) == []


def test_escaping_destination_and_bad_payload_fail(tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    escaping = Task(Name="t", DispatchPayload=DispatchPayload(File="../../etc/x"))
    with pytest.raises(DispatchPayloadError, match="escapes"):
        write_dispatch_payload(escaping, _job(b"data"), str(local))
    task = Task(Name="t", DispatchPayload=DispatchPayload(File="x"))
    with pytest.raises(DispatchPayloadError, match="decode"):
        write_dispatch_payload(task, Job(ID="j", Payload="not base64!"), str(local))
