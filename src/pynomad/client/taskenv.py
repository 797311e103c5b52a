"""Task environment: Nomad's NOMAD_* variables and `${...}` interpolation.

`build_env` is pure: it turns an allocation, task, node and task directories into the
environment a task sees (Nomad's `client/taskenv`). `TaskEnv.interpolate` replaces
`${NOMAD_ALLOC_ID}`, `${env["X"]}`, `${node.unique.id}`, `${attr.kernel.name}` and
`${meta.key}` in strings and recursively in a driver `config` block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pynomad.structs import Allocation, NetworkResource, Node, Task

DEFAULT_ENV_DENYLIST = frozenset({
    "CONSUL_TOKEN", "CONSUL_HTTP_TOKEN", "CONSUL_HTTP_TOKEN_FILE", "NOMAD_TOKEN",
    "NOMAD_LICENSE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS", "VAULT_TOKEN",
})

_VAR = re.compile(r"\$\{([a-zA-Z0-9_\-\.]+)\}")
_ENV_INDEX = re.compile(r"\$\{env\[\"([^\"]+)\"\]\}")
_CLEAN_PREFIXES = ("NOMAD_ADDR_", "NOMAD_IP_", "NOMAD_PORT_", "NOMAD_HOST_PORT_",
                   "NOMAD_META_")


@dataclass
class TaskDirs:
    """Directories as the task sees them (absolute host paths for raw_exec)."""

    alloc_dir: str = ""
    local_dir: str = ""
    secrets_dir: str = ""


@dataclass
class TaskEnv:
    """A built environment plus the node variables used for interpolation."""

    env: dict[str, str] = field(default_factory=dict)
    node_attrs: dict[str, str] = field(default_factory=dict)

    def replace(self, text: str) -> str:
        """Replace known `${...}` references in `text`; unknown ones stay as written."""
        if "${" not in text:
            return text
        text = _ENV_INDEX.sub(lambda m: self.env.get(m.group(1), m.group(0)), text)

        def sub(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in self.env:
                return self.env[key]
            return self.node_attrs.get(key, m.group(0))
        return _VAR.sub(sub, text)

    def interpolate(self, value: Any) -> Any:
        """Interpolate strings anywhere inside dicts/lists (a driver config block)."""
        if isinstance(value, str):
            return self.replace(value)
        if isinstance(value, list):
            return [self.interpolate(v) for v in value]
        if isinstance(value, dict):
            return {k: self.interpolate(v) for k, v in value.items()}
        return value


def clean_env_var(key: str, repl: str = "_") -> str:
    """Nomad's `helper.CleanEnvVar`: keep [A-Za-z_.] and non-leading digits."""
    out = []
    for i, c in enumerate(key):
        ok = c in "_." or ("a" <= c <= "z") or ("A" <= c <= "Z") or (i > 0 and "0" <= c <= "9")
        out.append(c if ok else repl)
    return "".join(out)


def _join_host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def node_attrs(node: Node | None, region: str = "") -> dict[str, str]:
    """`node.*`, `attr.*` and `meta.*` interpolation variables."""
    attrs: dict[str, str] = {}
    if region:
        attrs["node.region"] = region
    if node is None:
        return attrs
    attrs.update({"node.unique.id": node.ID, "node.unique.name": node.Name,
                  "node.class": node.NodeClass, "node.datacenter": node.Datacenter,
                  "node.pool": node.NodePool})
    attrs.update({f"attr.{k}": v for k, v in node.Attributes.items()})
    attrs.update({f"meta.{k}": v for k, v in node.Meta.items()})
    return attrs


def combined_meta(alloc: Allocation, task: Task) -> dict[str, str]:
    """Job meta, overridden by group meta, overridden by task meta."""
    job = alloc.Job
    meta: dict[str, str] = dict((job.Meta or {}) if job else {})
    tg = job.lookup_task_group(alloc.TaskGroup) if job else None
    meta.update((tg.Meta or {}) if tg else {})
    meta.update(task.Meta or {})
    return meta


def _task_network_env(env: dict[str, str], nets: list[NetworkResource]) -> None:
    for n in nets:
        for p in (n.ReservedPorts or []) + (n.DynamicPorts or []):
            port = str(p.Value)
            family = "NOMAD_IPv6_" if ":" in n.IP else "NOMAD_IPv4_"
            env["NOMAD_IP_" + p.Label] = n.IP
            env[family + p.Label] = n.IP
            env["NOMAD_HOST_PORT_" + p.Label] = port
            env["NOMAD_ADDR_" + p.Label] = _join_host_port(n.IP, p.Value)
            env["NOMAD_PORT_" + p.Label] = port


def _port_env(alloc: Allocation, task_name: str) -> dict[str, str]:
    """Port variables of other tasks, group networks and allocated host ports."""
    env: dict[str, str] = {}
    ar = alloc.AllocatedResources
    if ar is None:
        return env
    for other, res in (ar.Tasks or {}).items():
        if other == task_name:
            continue
        for nw in res.Networks or []:
            for p in (nw.ReservedPorts or []) + (nw.DynamicPorts or []):
                env[f"NOMAD_ADDR_{other}_{p.Label}"] = _join_host_port(nw.IP, p.Value)
                env[f"NOMAD_IP_{other}_{p.Label}"] = nw.IP
                env[f"NOMAD_PORT_{other}_{p.Label}"] = str(p.Value)
    shared = ar.Shared
    if shared is None:
        return env
    for nw in shared.Networks or []:
        for p in (nw.ReservedPorts or []) + (nw.DynamicPorts or []):
            env["NOMAD_PORT_" + p.Label] = str(p.To if p.To > 0 else p.Value)
            env["NOMAD_HOST_PORT_" + p.Label] = str(p.Value)
    for p in shared.Ports or []:
        port = str(p.Value)
        mapped = str(p.To) if p.To > 0 else port
        env["NOMAD_ADDR_" + p.Label] = _join_host_port(p.HostIP, p.Value)
        env["NOMAD_HOST_ADDR_" + p.Label] = _join_host_port(p.HostIP, p.Value)
        env["NOMAD_IP_" + p.Label] = p.HostIP
        env["NOMAD_HOST_IP_" + p.Label] = p.HostIP
        env["NOMAD_PORT_" + p.Label] = mapped
        env["NOMAD_ALLOC_PORT_" + p.Label] = mapped
        env["NOMAD_HOST_PORT_" + p.Label] = port
    return env


def _limits(alloc: Allocation, task: Task) -> tuple[int, int, int, list[int]]:
    """(cpu MHz, memory MB, memory max MB, reserved cores) for the task."""
    res = task.Resources
    cpu = (res.CPU or 0) if res else 0
    mem = (res.MemoryMB or 0) if res else 0
    mem_max = (res.MemoryMaxMB or 0) if res else 0
    cores: list[int] = []
    ar = alloc.AllocatedResources
    tr = (ar.Tasks or {}).get(task.Name) if ar else None
    if tr is not None:
        if tr.Cpu is not None:
            cpu = tr.Cpu.CpuShares or cpu
            cores = list(tr.Cpu.ReservedCores or [])
        if tr.Memory is not None:
            mem = tr.Memory.MemoryMB or mem
            mem_max = tr.Memory.MemoryMaxMB or mem_max
    return cpu, mem, mem_max, cores


def _base_env(alloc: Allocation, task: Task, node: Node | None, dirs: TaskDirs) -> dict[str, str]:
    job = alloc.Job
    env: dict[str, str] = {}
    for key, value in (("NOMAD_ALLOC_DIR", dirs.alloc_dir), ("NOMAD_TASK_DIR", dirs.local_dir),
                       ("NOMAD_SECRETS_DIR", dirs.secrets_dir)):
        if value:
            env[key] = value
    cpu, mem, mem_max, cores = _limits(alloc, task)
    if mem:
        env["NOMAD_MEMORY_LIMIT"] = str(mem)
    if mem_max:
        env["NOMAD_MEMORY_MAX_LIMIT"] = str(mem_max)
    if cpu:
        env["NOMAD_CPU_LIMIT"] = str(cpu)
    if cores:
        env["NOMAD_CPU_CORES"] = ",".join(str(c) for c in cores)
    if alloc.ID:
        env["NOMAD_ALLOC_ID"] = alloc.ID
        env["NOMAD_SHORT_ALLOC_ID"] = alloc.ID[:8]
    optional = {"NOMAD_ALLOC_NAME": alloc.Name, "NOMAD_GROUP_NAME": alloc.TaskGroup,
                "NOMAD_TASK_NAME": task.Name, "NOMAD_JOB_ID": (job.ID or "") if job else "",
                "NOMAD_JOB_NAME": (job.Name or "") if job else "",
                "NOMAD_JOB_PARENT_ID": (job.ParentID or "") if job else "",
                "NOMAD_DC": node.Datacenter if node else "",
                "NOMAD_PARENT_CGROUP": node.CgroupParent if node else "",
                "NOMAD_NAMESPACE": alloc.Namespace,
                "NOMAD_REGION": (job.Region or "") if job else ""}
    env.update({k: v for k, v in optional.items() if v})
    env["NOMAD_ALLOC_INDEX"] = str(alloc.index())
    return env


def build_env(alloc: Allocation, task: Task, node: Node | None, dirs: TaskDirs,
              host_env: dict[str, str] | None = None,
              denylist: frozenset[str] = DEFAULT_ENV_DENYLIST) -> TaskEnv:
    """The task's environment, in Nomad's precedence order.

    NOMAD_* base → network → meta → host env (never overriding) → task `env` (interpolated).
    """
    job = alloc.Job
    attrs = node_attrs(node, (job.Region or "") if job else "")
    env = _base_env(alloc, task, node, dirs)
    tr = (alloc.AllocatedResources.Tasks or {}).get(task.Name) if alloc.AllocatedResources else None
    _task_network_env(env, list(tr.Networks or []) if tr else [])
    env.update(_port_env(alloc, task.Name))
    partial = TaskEnv(env, attrs)
    for k, v in combined_meta(alloc, task).items():
        env[partial.replace("NOMAD_META_" + k.upper())] = partial.replace(v)
        env[partial.replace("NOMAD_META_" + k)] = partial.replace(v)
    for k, v in (host_env or {}).items():
        if k not in env and k not in denylist:
            env[k] = v
    for k, v in (task.Env or {}).items():
        env[k] = partial.replace(v)
    cleaned = {}
    for k, v in env.items():
        cleaned[clean_env_var(k) if k.startswith(_CLEAN_PREFIXES) else k] = v
    return TaskEnv(cleaned, attrs)
