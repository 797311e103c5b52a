"""Task environment variables and interpolation."""

from client_helpers import make_alloc

from pynomad.client.taskenv import TaskDirs, TaskEnv, build_env, clean_env_var
from pynomad.structs import (AllocatedCpuResources, AllocatedMemoryResources, AllocatedPortMapping, AllocatedResources, AllocatedSharedResources,
                             AllocatedTaskResources, NetworkResource, Node, Port, Resources, Task)


def _node():
    return Node(ID="nid", Name="n1", Datacenter="dc2", NodeClass="big",
                Attributes={"kernel.name": "linux"}, Meta={"rack": "r1"})


def _alloc():
    task = Task(Name="web", Driver="raw_exec", Env={"GREETING": "hi ${NOMAD_TASK_NAME}",
                                                   "DC": "${node.datacenter}"},
                Meta={"owner": "me"}, Resources=Resources(CPU=250, MemoryMB=128))
    alloc = make_alloc([task], meta={"team": "core"})
    alloc.Job.Region = "eu"
    alloc.Job.ParentID = "parent"
    alloc.AllocatedResources = AllocatedResources(
        Tasks={"web": AllocatedTaskResources(
            Cpu=AllocatedCpuResources(CpuShares=500),
            Memory=AllocatedMemoryResources(MemoryMB=256, MemoryMaxMB=512)),
               "other": AllocatedTaskResources(Networks=[NetworkResource(
                   IP="10.0.0.2", DynamicPorts=[Port(Label="db", Value=25000)])])},
        Shared=AllocatedSharedResources(Ports=[
            AllocatedPortMapping(Label="http", Value=23456, To=8080, HostIP="10.0.0.1"),
            AllocatedPortMapping(Label="admin-ui", Value=23457, HostIP="10.0.0.1")]))
    return alloc, task


def test_build_env_identity_and_dirs():
    alloc, task = _alloc()
    env = build_env(alloc, task, _node(), TaskDirs("/a/alloc", "/a/web/local", "/a/web/secrets"),
                    host_env={"PATH": "/bin", "VAULT_TOKEN": "x", "NOMAD_TASK_NAME": "nope"}).env
    assert env["NOMAD_ALLOC_ID"] == alloc.ID
    assert env["NOMAD_SHORT_ALLOC_ID"] == alloc.ID[:8]
    assert env["NOMAD_ALLOC_NAME"] == "example.web[0]"
    assert env["NOMAD_ALLOC_INDEX"] == "0"
    assert env["NOMAD_ALLOC_DIR"] == "/a/alloc"
    assert env["NOMAD_TASK_DIR"] == "/a/web/local"
    assert env["NOMAD_SECRETS_DIR"] == "/a/web/secrets"
    assert env["NOMAD_JOB_ID"] == env["NOMAD_JOB_NAME"] == "example"
    assert env["NOMAD_JOB_PARENT_ID"] == "parent"
    assert env["NOMAD_TASK_NAME"] == "web"
    assert env["NOMAD_GROUP_NAME"] == "web"
    assert env["NOMAD_DC"] == "dc2"
    assert env["NOMAD_NAMESPACE"] == "default"
    assert env["NOMAD_REGION"] == "eu"
    assert env["NOMAD_CPU_LIMIT"] == "500"
    assert env["NOMAD_MEMORY_LIMIT"] == "256"
    assert env["NOMAD_MEMORY_MAX_LIMIT"] == "512"
    assert env["PATH"] == "/bin"
    assert "VAULT_TOKEN" not in env


def test_build_env_meta_ports_and_task_env():
    alloc, task = _alloc()
    env = build_env(alloc, task, _node(), TaskDirs()).env
    assert env["NOMAD_META_owner"] == env["NOMAD_META_OWNER"] == "me"
    assert env["NOMAD_META_team"] == env["NOMAD_META_TEAM"] == "core"
    assert env["NOMAD_PORT_http"] == "8080"
    assert env["NOMAD_HOST_PORT_http"] == "23456"
    assert env["NOMAD_ADDR_http"] == "10.0.0.1:23456"
    assert env["NOMAD_IP_http"] == "10.0.0.1"
    assert env["NOMAD_HOST_ADDR_http"] == "10.0.0.1:23456"
    assert env["NOMAD_ALLOC_PORT_http"] == "8080"
    assert env["NOMAD_PORT_admin_ui"] == "23457"        # cleaned key
    assert env["NOMAD_ADDR_other_db"] == "10.0.0.2:25000"
    assert env["GREETING"] == "hi web"
    assert env["DC"] == "dc2"


def test_task_level_network_ports():
    task = Task(Name="t", Driver="mock_driver")
    alloc = make_alloc([task])
    alloc.AllocatedResources = AllocatedResources(Tasks={"t": AllocatedTaskResources(
        Networks=[NetworkResource(IP="192.168.1.5", ReservedPorts=[Port(Label="rpc", Value=9000)])])})
    env = build_env(alloc, task, None, TaskDirs()).env
    assert env["NOMAD_PORT_rpc"] == "9000"
    assert env["NOMAD_ADDR_rpc"] == "192.168.1.5:9000"
    assert env["NOMAD_IPv4_rpc"] == "192.168.1.5"


def test_interpolate():
    alloc, task = _alloc()
    te = build_env(alloc, task, _node(), TaskDirs("/a/alloc", "/l", "/s"))
    cfg = {"command": "${NOMAD_ALLOC_DIR}/bin", "args": ["${env[\"NOMAD_TASK_NAME\"]}",
                                                        "${node.unique.id}", "${attr.kernel.name}",
                                                        "${meta.rack}", "${unknown.thing}", 3],
           "nested": {"x": "${NOMAD_JOB_ID}"}}
    out = te.interpolate(cfg)
    assert out == {"command": "/a/alloc/bin",
                   "args": ["web", "nid", "linux", "r1", "${unknown.thing}", 3],
                   "nested": {"x": "example"}}


def test_replace_without_placeholders_is_identity():
    te = TaskEnv({"A": "1"}, {})
    assert te.replace("plain") == "plain"
    assert te.replace("${A}-${A}") == "1-1"


def test_clean_env_var():
    assert clean_env_var("NOMAD_PORT_my-port") == "NOMAD_PORT_my_port"
    assert clean_env_var("1abc") == "_abc"
    assert clean_env_var("a.b_c9") == "a.b_c9"
