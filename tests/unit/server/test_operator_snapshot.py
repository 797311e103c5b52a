"""Operator snapshot save/restore and raft configuration on one in-process server."""

import asyncio
import gzip
import io
import tarfile

import pytest
from server_helpers import live, settle
from test_operator_endpoints import make_job, make_node

from pynomad.server import Server, ServerConfig
from pynomad.server.errors import BadRequest
from pynomad.state.snapshot import table_counts, unpack_archive


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def _rebuild(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


def test_archive_layout_and_roundtrip(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=2))
        await settle(server)
        assert len(live(server)) == 2
        data, index = server.snapshots.save()
        files = _members(data)
        assert list(files) == ["meta.json", "state.bin", "SHA256SUMS"]
        meta, state_bin = unpack_archive(data)
        assert meta["Index"] == index >= server.state.latest_index
        assert meta["Version"] == 1 and meta["ID"].startswith(f"1-{index}-")
        assert meta["Size"] == len(state_bin)
        assert table_counts(state_bin)["Jobs"] == 1 and table_counts(state_bin)["Allocs"] == 2

        await server.jobs.deregister("default", "web", purge=True)
        await settle(server)
        assert server.state.job_by_id("default", "web") is None
        before = server.state.latest_index
        waiter = asyncio.ensure_future(server.watcher.wait(("jobs",), before, 30))
        await asyncio.sleep(0)
        restored = await server.snapshots.restore(data)
        assert restored > before and await asyncio.wait_for(waiter, 5) == restored
        assert server.state.job_by_id("default", "web") is not None
        assert len(live(server)) == 2
        assert server.state.table_index("allocs") == restored
        # the server keeps working on the restored state
        await server.jobs.register(make_job(job_id="api"))
        await settle(server)
        assert len(live(server, "api")) == 1
    run(body)


@pytest.mark.parametrize("mangle, message", [
    (lambda d: b"not a snapshot", "not a gzip archive"),
    (lambda d: gzip.compress(b"x" * 1000), "not a tar archive"),
    (lambda d: _rebuild({k: v for k, v in _members(d).items() if k != "SHA256SUMS"}),
     "did not contain SHA256SUMS"),
    (lambda d: _rebuild({**_members(d), "state.bin": _members(d)["state.bin"] + b"x"}),
     "sha256 hash mismatch for state.bin"),
])
def test_bad_archive_is_400_and_changes_nothing(run, mangle, message):
    async def body(server):
        await server.jobs.register(make_job())
        data, _ = server.snapshots.save()
        await server.jobs.deregister("default", "web", purge=True)
        index = server.state.latest_index
        with pytest.raises(BadRequest, match=message) as err:
            await server.snapshots.restore(mangle(data))
        assert "\n" not in str(err.value.message)
        assert server.state.job_by_id("default", "web") is None
        assert server.state.latest_index == index
    run(body)


def test_foreign_state_bin_rejected(run):
    async def body(server):
        data, _ = server.snapshots.save()
        files = _members(data)
        files["state.bin"] = b"\x81\xa3foo\x01"  # valid msgpack, not our state
        import hashlib
        files["SHA256SUMS"] = "".join(
            f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n"
            for n in ("meta.json", "state.bin")).encode()
        with pytest.raises(BadRequest, match="failed to decode state.bin"):
            await server.snapshots.restore(_rebuild(files))
        with pytest.raises(BadRequest, match="empty"):
            await server.snapshots.restore(b"")
    run(body)


def test_restore_is_durable(tmp_path):
    async def main():
        server = Server(ServerConfig(num_schedulers=1, data_dir=str(tmp_path)))
        await server.start()
        try:
            await server.jobs.register(make_job())
            await settle(server)
            data, _ = server.snapshots.save()
            await server.jobs.deregister("default", "web", purge=True)
            await settle(server)
            index = await server.snapshots.restore(data)
            assert (tmp_path / "server" / "wal.log").stat().st_size == 0
        finally:
            await server.stop()
        again = Server(ServerConfig(num_schedulers=1, data_dir=str(tmp_path)))
        await again.start()
        try:
            assert again.state.job_by_id("default", "web") is not None
            assert again.backend.index >= index
        finally:
            await again.stop()
    asyncio.run(main())


def test_raft_configuration(run):
    async def body(server):
        out = await server.snapshots.raft_configuration()
        assert out["Servers"] == [{"Address": "127.0.0.1:4647", "ID": "127.0.0.1:4647",
                                   "Leader": True, "Node": "server", "RaftProtocol": "3",
                                   "Voter": True}]
    run(body)
