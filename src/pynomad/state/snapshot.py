"""Whole-state snapshots (msgpack), with each alloc's job stored once per version."""

from __future__ import annotations

import msgspec

from ..structs import (Allocation, Deployment, Evaluation, Job, JobSubmission, JobSummary, Node,
                       enc_hook)
from ..structs.acl import ACLPolicy, ACLToken, Namespace
from ..structs.operator import SchedulerConfiguration
from ..structs.services import ServiceRegistration
from .store import StateStore
from ..structs.acl_auth import ACLAuthMethod, ACLBindingRule, ACLRole, OneTimeToken
from ..structs.keyring import RootKey, VariableEncrypted


class _Snapshot(msgspec.Struct):
    Index: int
    Versions: list[Job]
    Current: list[tuple[str, str, int]]
    Summaries: list[JobSummary]
    Nodes: list[Node]
    Evals: list[Evaluation]
    Allocs: list[Allocation]
    AllocJobVersions: list[int]
    Submissions: list[JobSubmission] = []
    SchedulerConfig: SchedulerConfiguration | None = None
    Deployments: list[Deployment] = []
    Namespaces: list[Namespace] = []
    ACLPolicies: list[ACLPolicy] = []
    ACLTokens: list[ACLToken] = []
    ACLBootstrapIndex: int = 0
    Variables: list[VariableEncrypted] = []
    Services: list[ServiceRegistration] = []
    ACLRoles: list[ACLRole] = []
    ACLAuthMethods: list[ACLAuthMethod] = []
    ACLBindingRules: list[ACLBindingRule] = []
    OneTimeTokens: list[OneTimeToken] = []
    RootKeys: list[RootKey] = []


def dump_state(state: StateStore, index: int) -> bytes:
    allocs, versions = [], []
    for a in state.allocs.values():
        versions.append(a.Job.Version if a.Job is not None else -1)
        allocs.append(msgspec.structs.replace(a, Job=None))
    all_versions = {id(j): j for vs in state.job_versions.values() for j in vs}
    for a in state.allocs.values():
        if a.Job is not None:
            all_versions.setdefault(id(a.Job), a.Job)
    snap = _Snapshot(
        Index=index,
        Versions=list(all_versions.values()),
        Current=[(ns, jid, j.Version) for (ns, jid), j in state.jobs.items()],
        Summaries=list(state.job_summaries.values()),
        Nodes=list(state.nodes.values()),
        Evals=list(state.evals.values()),
        Allocs=allocs,
        AllocJobVersions=versions,
        Submissions=list(state.job_submissions.values()),
        SchedulerConfig=state.scheduler_config,
        Deployments=list(state.deployments.values()),
        Namespaces=list(state.namespaces.values()),
        ACLPolicies=list(state.acl_policies.values()),
        ACLTokens=list(state.acl_tokens.values()),
        ACLBootstrapIndex=state.acl_bootstrap_index,
        Variables=list(state.variables.values()),
        Services=list(state.service_registrations.values()),
        ACLRoles=list(state.acl_roles.values()),
        ACLAuthMethods=list(state.acl_auth_methods.values()),
        ACLBindingRules=list(state.acl_binding_rules.values()),
        OneTimeTokens=list(state.one_time_tokens.values()),
        RootKeys=list(state.root_keys.values()),
    )
    return msgspec.msgpack.encode(snap, enc_hook=enc_hook)


def load_state(state: StateStore, data: bytes) -> int:
    snap = msgspec.msgpack.decode(data, type=_Snapshot)
    by_version = {(j.Namespace, j.ID, j.Version): j for j in snap.Versions}
    for ns, jid, version in snap.Current:
        state.jobs[(ns, jid)] = by_version[(ns, jid, version)]
    for j in sorted(snap.Versions, key=lambda j: j.Version or 0):
        if (j.Namespace, j.ID) in state.jobs:
            state.job_versions.setdefault((j.Namespace, j.ID), []).append(j)
    for s in snap.Summaries:
        state.job_summaries[(s.Namespace, s.JobID)] = s
    for n in snap.Nodes:
        state.nodes[n.ID] = n
    for ev in snap.Evals:
        state.put_eval(ev)
    for d in snap.Deployments:
        state.put_deployment(d)
    for a, version in zip(snap.Allocs, snap.AllocJobVersions):
        a.Job = by_version.get((a.Namespace, a.JobID, version))
        state.put_alloc(a)
    state.scheduler_config = snap.SchedulerConfig
    for sub in snap.Submissions:
        state.job_submissions[(sub.Namespace, sub.JobID, sub.Version)] = sub
    for ns in snap.Namespaces:
        state.namespaces[ns.Name] = ns
    for pol in snap.ACLPolicies:
        state.acl_policies[pol.Name] = pol
    for token in snap.ACLTokens:
        state.put_token(token)
    state.acl_bootstrap_index = snap.ACLBootstrapIndex
    for var in snap.Variables:
        state.variables[(var.Namespace, var.Path)] = var
    for reg in snap.Services:
        state.service_registrations[reg.ID] = reg
    state.acl_roles = {r.ID: r for r in snap.ACLRoles}
    state.acl_auth_methods = {m.Name: m for m in snap.ACLAuthMethods}
    state.acl_binding_rules = {r.ID: r for r in snap.ACLBindingRules}
    state.one_time_tokens = {t.OneTimeSecretID: t for t in snap.OneTimeTokens}
    state.root_keys = {k.Meta.KeyID: k for k in snap.RootKeys}
    state.latest_index = snap.Index
    for t in state.indexes:
        state.indexes[t] = snap.Index
    return snap.Index


# -- snapshot archives (`/v1/operator/snapshot`) -------------------------------------------
# Nomad's layout: a gzipped tar of `meta.json` (the raft snapshot metadata), `state.bin` (the
# serialized state) and `SHA256SUMS` (sha256sum lines covering the other two).

ARCHIVE_FORMAT = "pynomad-msgpack-1"
_ARCHIVE_MAX = 1 << 30


class SnapshotError(ValueError):
    """A snapshot archive that cannot be restored; the message is one line for the user."""


def pack_archive(state_bin: bytes, index: int, term: int = 1, *, servers: list[dict] | None = None,
                 now_ms: int | None = None) -> bytes:
    """`state_bin` (from `dump_state`) → Nomad's snapshot archive bytes."""
    import gzip
    import hashlib
    import io
    import json
    import tarfile
    import time

    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    meta = {"Version": 1, "ID": f"{term}-{index}-{now_ms}", "Index": index, "Term": term,
            "Peers": None,
            "Configuration": {"Servers": [{"Suffrage": 0, "ID": s.get("ID", ""),
                                           "Address": s.get("Address", "")}
                                          for s in servers or []]},
            "ConfigurationIndex": index, "Size": len(state_bin), "Format": ARCHIVE_FORMAT}
    meta_bytes = json.dumps(meta).encode()
    files = [("meta.json", meta_bytes), ("state.bin", state_bin)]
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files)
    files.append(("SHA256SUMS", sums.encode()))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = now_ms // 1000
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def unpack_archive(data: bytes) -> tuple[dict, bytes]:
    """Archive bytes → (meta, state_bin), checksums verified; SnapshotError otherwise."""
    import gzip
    import hashlib
    import io
    import json
    import tarfile
    import zlib

    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise SnapshotError(f"failed to read snapshot: not a gzip archive ({err})") from None
    if len(raw) > _ARCHIVE_MAX:
        raise SnapshotError("failed to read snapshot: archive too large")
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                f = tar.extractfile(member)
                files[member.name] = f.read() if f is not None else b""
    except (tarfile.TarError, OSError, EOFError) as err:
        raise SnapshotError(f"failed to read snapshot: not a tar archive ({err})") from None
    for name in ("meta.json", "state.bin", "SHA256SUMS"):
        if name not in files:
            raise SnapshotError(f"failed to read snapshot: archive did not contain {name}")
    sums: dict[str, str] = {}
    for line in files["SHA256SUMS"].decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1]] = parts[0].lower()
    for name in ("meta.json", "state.bin"):
        if name not in sums:
            raise SnapshotError(f"failed to read snapshot: SHA256SUMS has no entry for {name}")
        if hashlib.sha256(files[name]).hexdigest() != sums[name]:
            raise SnapshotError(f"failed to read snapshot: sha256 hash mismatch for {name}")
    try:
        meta = json.loads(files["meta.json"])
        if not isinstance(meta, dict) or not isinstance(meta.get("Index"), int):
            raise ValueError("no Index")
    except ValueError as err:
        raise SnapshotError(f"failed to read snapshot: invalid meta.json ({err})") from None
    if meta.get("Format") != ARCHIVE_FORMAT:
        raise SnapshotError("failed to read snapshot: state.bin is not in pynomad's format "
                            f"(format {meta.get('Format')!r}, want {ARCHIVE_FORMAT!r})")
    return meta, files["state.bin"]


def decode_state(state_bin: bytes) -> tuple[StateStore, int]:
    """`state.bin` → a fresh StateStore and its index; SnapshotError if it does not decode."""
    fresh = StateStore()
    try:
        index = load_state(fresh, state_bin)
    except (msgspec.DecodeError, msgspec.ValidationError, KeyError, TypeError,
            ValueError) as err:
        raise SnapshotError(f"failed to decode state.bin: {err}".splitlines()[0]) from None
    return fresh, index


def table_counts(state_bin: bytes) -> dict[str, int]:
    """Row counts per table in `state.bin` (for `nomad operator snapshot inspect`)."""
    snap = msgspec.msgpack.decode(state_bin)
    names = {"Current": "Jobs", "Versions": "JobVersions", "Nodes": "Nodes", "Evals": "Evals",
             "Allocs": "Allocs", "Deployments": "Deployments", "Namespaces": "Namespaces",
             "ACLPolicies": "ACLPolicies", "ACLTokens": "ACLTokens",
             "Variables": "Variables", "Services": "Services", "ACLRoles": "ACLRoles",
             "ACLAuthMethods": "ACLAuthMethods", "ACLBindingRules": "ACLBindingRules",
             "RootKeys": "RootKeys"}
    if not isinstance(snap, dict):
        return {}
    return {label: len(snap.get(key) or []) for key, label in names.items()}


def replace_state(target: StateStore, source: StateStore, index: int) -> None:
    """Make `target` hold `source`'s tables in place (so every holder of `target` sees them),
    with every table's index set to `index`. Listeners and views of `target` are kept; the
    caller notifies them."""
    keep = {k: target.__dict__[k] for k in ("_listeners", "_views", "_generation")}
    target.__dict__.clear()
    target.__dict__.update(source.__dict__)
    target.__dict__.update(keep)
    target._generation += 1  # no view may keep reading a usage object the source built
    target.indexes = {t: index for t in target.indexes}
    target.latest_index = index
