"""State DB persistence and host fingerprinting."""

import os

from client_helpers import make_alloc

import pynomad
from pynomad.client.config import ClientConfig
from pynomad.client.driver import TaskConfig, TaskHandle
from pynomad.client.fingerprint import HostFacts, build_node, fingerprint, node_identity
from pynomad.structs import ClientHostVolumeConfig
from pynomad.client.state import StateDB, TaskLocalState, atomic_write
from pynomad.structs import DriverInfo, Task, TaskState


def _read(path):
    with open(path) as f:
        return f.read()


def test_state_db_roundtrip(tmp_path):
    db = StateDB(str(tmp_path), fsync=True)
    alloc = make_alloc([Task(Name="web", Driver="raw_exec")])
    db.put_alloc(alloc)
    handle = TaskHandle(driver="raw_exec", config=TaskConfig(id="x", alloc_id=alloc.ID,
                                                             task_name="web"),
                        state={"task_pid": 42})
    db.put_task(alloc.ID, "web", TaskLocalState(State=TaskState(State="running"), Handle=handle,
                                                Attempt=2))
    again = StateDB(str(tmp_path)).get_all()
    rec = again[alloc.ID]
    assert rec.Alloc == alloc
    assert rec.Tasks["web"].Handle.state == {"task_pid": 42}
    assert rec.Tasks["web"].State.State == "running"
    db.delete_alloc(alloc.ID)
    assert StateDB(str(tmp_path)).get_all() == {}
    db.put_task(alloc.ID, "web", TaskLocalState())   # late write after delete is dropped
    assert StateDB(str(tmp_path)).get_all() == {}


def test_state_db_skips_corrupt_records(tmp_path):
    db = StateDB(str(tmp_path))
    alloc = make_alloc([Task(Name="web", Driver="raw_exec")])
    db.put_alloc(alloc)
    atomic_write(os.path.join(db.root, "garbage-dir-file"), b"x")
    os.makedirs(os.path.join(db.root, "broken"))
    with open(os.path.join(db.root, "broken", "alloc.mp"), "wb") as f:
        f.write(b"\xc1not msgpack")
    assert list(db.get_all()) == [alloc.ID]


def test_fingerprint_real_host(tmp_path):
    cfg = ClientConfig(data_dir=str(tmp_path), name="n1", datacenter="dc9", node_class="c",
                       meta={"rack": "r1"}, http_addr="10.1.1.1:4646")
    info = DriverInfo(Attributes={"driver.raw_exec": "1"}, Detected=True, Healthy=True)
    node = fingerprint(cfg, {"raw_exec": info, "docker": DriverInfo(Detected=False)})
    a = node.Attributes
    for key in ("kernel.name", "kernel.version", "kernel.arch", "os.name", "cpu.arch",
                "cpu.numcores", "cpu.frequency", "cpu.totalcompute", "memory.totalbytes",
                "unique.hostname", "unique.network.ip-address", "unique.storage.bytestotal",
                "unique.storage.bytesfree", "nomad.version", "nomad.revision"):
        assert a.get(key), key
    assert a["nomad.version"] == pynomad.__version__
    assert a["driver.raw_exec"] == "1" and "driver.docker" not in a
    assert a["unique.advertise.address"] == "10.1.1.1:4646"
    assert node.Name == "n1" and node.Datacenter == "dc9" and node.NodeClass == "c"
    assert node.Meta == {"rack": "r1"}
    assert node.NodeResources.Cpu.CpuShares == int(a["cpu.totalcompute"])
    assert node.NodeResources.Memory.MemoryMB > 0
    assert node.Drivers["raw_exec"].Detected
    again = fingerprint(cfg, {})
    assert again.ID == node.ID and again.SecretID == node.SecretID   # persisted identity


def test_build_node_is_pure():
    facts = HostFacts(hostname="h", kernel_version="6.1", machine="aarch64", os_name="debian",
                      os_version="12", cpu_cores=4, cpu_mhz=2000, cpu_model="m",
                      memory_bytes=8 * 1024**3, disk_volume="/dev/sda1",
                      disk_total_bytes=10**11, disk_free_bytes=5 * 1024**3, ip_address="10.0.0.9",
                      interface="eth0")
    cfg = ClientConfig(data_dir="/unused", host_volumes={"certs": ("/etc/ssl", True)})
    node = build_node(facts, cfg, "id", "secret", {})
    assert node.HostVolumes == {"certs": ClientHostVolumeConfig(Name="certs", Path="/etc/ssl",
                                                                ReadOnly=True)}
    assert node.Attributes["cpu.arch"] == "arm64"
    assert node.Attributes["cpu.totalcompute"] == "8000"
    assert node.NodeResources.Cpu.CpuShares == 8000
    assert node.NodeResources.Memory.MemoryMB == 8192
    assert node.NodeResources.Disk.DiskMB == 5120
    assert node.NodeResources.Networks[0].IP == "10.0.0.9"
    assert node.Name == "h" and node.Status == "initializing"


def test_node_identity_files(tmp_path):
    nid, sid = node_identity(str(tmp_path))
    assert _read(tmp_path / "client-id") == nid
    assert node_identity(str(tmp_path)) == (nid, sid)
