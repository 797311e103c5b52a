"""The in-memory state store: tables, secondary indexes and per-table indexes.

Every object carries CreateIndex/ModifyIndex; `table_index(name)` is the last index that
changed a table, which blocking queries compare against. Writes come only through the FSM
(`fsm.py`), applied in log order, and only through the `put_*` / `delete_*` methods here
(stored objects are replaced, never changed in place), so that the views schedulers read
(`snapshot()`, see `view.py`) stay frozen. Readers on the event loop (HTTP) read directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..structs import (Allocation, Deployment, Evaluation, Job, JobSubmission, JobSummary, Node,
                       NodeUsage, pack_alloc)
from ..structs.acl import ACLPolicy, ACLToken, Namespace, default_namespace
from ..structs.operator import SchedulerConfiguration
from ..structs.services import ServiceRegistration
from .view import ABSENT, StateSnapshot
from ..structs.acl_auth import ACLAuthMethod, ACLBindingRule, ACLRole, OneTimeToken
from ..structs.keyring import RootKey, VariableEncrypted

JobKey = tuple[str, str]

TABLES = ("jobs", "job_versions", "job_summary", "nodes", "allocs", "evals", "deployment",
          "scheduler_config", "namespaces", "acl_policy", "acl_token", "variables",
          "service_registrations", "acl_roles", "acl_auth_methods", "acl_binding_rules",
          "one_time_token", "root_keys")


def node_allocs_key(node_id: str) -> str:
    """The watch key notified when the server changes an allocation on `node_id`."""
    return "allocs@" + node_id


class StateStore:
    """Tables keyed like Nomad's memdb tables, with the indexes the server needs."""

    def __init__(self) -> None:
        self.jobs: dict[JobKey, Job] = {}
        self.job_versions: dict[JobKey, list[Job]] = {}
        self.job_summaries: dict[JobKey, JobSummary] = {}
        self.nodes: dict[str, Node] = {}
        self.allocs: dict[str, Allocation] = {}
        self.evals: dict[str, Evaluation] = {}
        self.deployments: dict[str, Deployment] = {}
        self.deployments_by_job: dict[JobKey, dict[str, Deployment]] = {}
        self.scheduler_config: SchedulerConfiguration | None = None
        self.allocs_by_node: dict[str, dict[str, Allocation]] = {}
        self.allocs_by_job: dict[JobKey, dict[str, Allocation]] = {}
        self.evals_by_job: dict[JobKey, dict[str, Evaluation]] = {}
        self.usage_by_node: dict[str, NodeUsage] = {}
        self.job_submissions: dict[tuple[str, str, int], JobSubmission] = {}
        self.namespaces: dict[str, Namespace] = {"default": default_namespace()}
        self.acl_policies: dict[str, ACLPolicy] = {}
        self.acl_tokens: dict[str, ACLToken] = {}
        self.acl_tokens_by_secret: dict[str, ACLToken] = {}
        self.acl_bootstrap_index = 0
        self.variables: dict[tuple[str, str], VariableEncrypted] = {}
        self.acl_roles: dict[str, ACLRole] = {}                  # by ID
        self.acl_auth_methods: dict[str, ACLAuthMethod] = {}     # by name
        self.acl_binding_rules: dict[str, ACLBindingRule] = {}   # by ID
        self.one_time_tokens: dict[str, OneTimeToken] = {}       # by OneTimeSecretID
        self.root_keys: dict[str, RootKey] = {}                  # by KeyID
        self.service_registrations: dict[str, ServiceRegistration] = {}
        self.indexes: dict[str, int] = {t: 0 for t in TABLES}
        self.latest_index = 0
        self._listeners: list[Callable[[int, set[str]], None]] = []
        self._views: list[StateSnapshot] = []
        self._generation = 0                  # bumped whenever a view is taken or refreshed
        self._usage_generation: dict[str, int] = {}

    # -- views for schedulers ------------------------------------------------------------
    def snapshot(self) -> StateSnapshot:
        """A read-only view frozen at the current index (close it when done)."""
        view = StateSnapshot(self)
        self._views.append(view)
        self._generation += 1
        return view

    def _view_refreshed(self) -> None:
        self._generation += 1

    def _view_closed(self, view: StateSnapshot) -> None:
        if view in self._views:
            self._views.remove(view)

    # -- notification -------------------------------------------------------------------
    def add_listener(self, fn: Callable[[int, set[str]], None]) -> None:
        """`fn(index, tables)` runs after every applied entry that changed `tables`."""
        self._listeners.append(fn)

    def notify(self, index: int, tables: set[str]) -> None:
        """Record `index` for each changed table; `tables` may also hold watch keys such as
        `node_allocs_key(id)`, which wake their waiters but have no index of their own."""
        indexes = self.indexes
        for t in tables:
            if t in indexes:
                indexes[t] = index
        self.latest_index = max(self.latest_index, index)
        for fn in list(self._listeners):
            fn(index, tables)

    def table_index(self, *tables: str) -> int:
        return max(self.indexes[t] for t in tables)

    # -- reads -------------------------------------------------------------------------
    def job_by_id(self, namespace: str, job_id: str) -> Job | None:
        return self.jobs.get((namespace, job_id))

    def job_versions_of(self, namespace: str, job_id: str) -> list[Job]:
        """All stored versions, newest first."""
        return list(reversed(self.job_versions.get((namespace, job_id), [])))

    def job_submission(self, namespace: str, job_id: str, version: int) -> JobSubmission | None:
        return self.job_submissions.get((namespace, job_id, version))

    def jobs_by_namespace(self, namespace: str | None) -> list[Job]:
        jobs = (j for (ns, _), j in self.jobs.items() if namespace in (None, "*", ns))
        return sorted(jobs, key=lambda j: (j.Namespace, j.ID))

    def job_summary(self, namespace: str, job_id: str) -> JobSummary | None:
        return self.job_summaries.get((namespace, job_id))

    def node_by_id(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)

    def nodes_list(self) -> Iterable[Node]:
        return self.nodes.values()

    def alloc_by_id(self, alloc_id: str) -> Allocation | None:
        return self.allocs.get(alloc_id)

    def allocs_by_job_id(self, namespace: str, job_id: str) -> list[Allocation]:
        return list(self.allocs_by_job.get((namespace, job_id), {}).values())

    def allocs_by_node_id(self, node_id: str) -> list[Allocation]:
        return list(self.allocs_by_node.get(node_id, {}).values())

    def eval_by_id(self, eval_id: str) -> Evaluation | None:
        return self.evals.get(eval_id)

    def evals_by_job_id(self, namespace: str, job_id: str) -> list[Evaluation]:
        return list(self.evals_by_job.get((namespace, job_id), {}).values())

    def deployment_by_id(self, deployment_id: str) -> Deployment | None:
        return self.deployments.get(deployment_id)

    def deployments_by_job_id(self, namespace: str, job_id: str) -> list[Deployment]:
        """The job's deployments, newest first."""
        deps = self.deployments_by_job.get((namespace, job_id), {}).values()
        return sorted(deps, key=lambda d: d.CreateIndex, reverse=True)

    def latest_deployment_by_job_id(self, namespace: str, job_id: str) -> Deployment | None:
        deps = self.deployments_by_job.get((namespace, job_id))
        return max(deps.values(), key=lambda d: d.CreateIndex) if deps else None

    def allocs_by_deployment(self, deployment: Deployment) -> list[Allocation]:
        return [a for a in self.allocs_by_job.get((deployment.Namespace, deployment.JobID),
                                                  {}).values()
                if a.DeploymentID == deployment.ID]

    def allocs_by_eval(self, eval_id: str) -> list[Allocation]:
        ev = self.evals.get(eval_id)
        if ev is None:
            return []
        return [a for a in self.allocs_by_job.get((ev.Namespace, ev.JobID), {}).values()
                if a.EvalID == eval_id]

    def namespace_by_name(self, name: str) -> Namespace | None:
        return self.namespaces.get(name)

    def namespaces_list(self, prefix: str = "") -> list[Namespace]:
        return sorted((ns for name, ns in self.namespaces.items() if name.startswith(prefix)),
                      key=lambda ns: ns.Name)

    def namespace_nonterminal_job(self, name: str) -> Job | None:
        """A job in namespace `name` that is not dead (which blocks deleting it)."""
        for (ns, _), job in sorted(self.jobs.items()):
            if ns == name and job.Status != "dead":
                return job
        return None

    def variable_by_path(self, namespace: str, path: str) -> VariableEncrypted | None:
        return self.variables.get((namespace, path))

    def variables_list(self, namespace: str, prefix: str = "") -> list[VariableEncrypted]:
        """Variables of `namespace` (`*`: all) whose path starts with `prefix`, by path."""
        found = (v for (ns, path), v in self.variables.items()
                 if namespace in ("*", ns) and path.startswith(prefix))
        return sorted(found, key=lambda v: (v.Path, v.Namespace))

    def service_registrations_by_name(self, namespace: str,
                                      name: str) -> list[ServiceRegistration]:
        """Registrations of service `name` in `namespace` (`*`: all), by ID."""
        found = (r for r in self.service_registrations.values()
                 if r.ServiceName == name and namespace in ("*", r.Namespace))
        return sorted(found, key=lambda r: (r.Namespace, r.ID))

    def acl_role_by_name(self, name: str) -> ACLRole | None:
        return next((r for r in self.acl_roles.values() if r.Name == name), None)

    def acl_binding_rules_by_method(self, method: str) -> list[ACLBindingRule]:
        return sorted((r for r in self.acl_binding_rules.values() if r.AuthMethod == method),
                      key=lambda r: r.CreateIndex)

    def default_auth_method(self) -> ACLAuthMethod | None:
        return next((m for m in self.acl_auth_methods.values() if m.Default), None)

    def acl_policy_by_name(self, name: str) -> ACLPolicy | None:
        return self.acl_policies.get(name)

    def acl_token_by_accessor(self, accessor_id: str) -> ACLToken | None:
        return self.acl_tokens.get(accessor_id)

    def acl_token_by_secret(self, secret_id: str) -> ACLToken | None:
        return self.acl_tokens_by_secret.get(secret_id)

    def put_token(self, token: ACLToken) -> None:
        old = self.acl_tokens.get(token.AccessorID)
        if old is not None:
            self.acl_tokens_by_secret.pop(old.SecretID, None)
        self.acl_tokens[token.AccessorID] = token
        self.acl_tokens_by_secret[token.SecretID] = token

    def delete_token(self, accessor_id: str) -> None:
        token = self.acl_tokens.pop(accessor_id, None)
        if token is not None:
            self.acl_tokens_by_secret.pop(token.SecretID, None)

    # -- writes (the FSM's only way to change a table) -----------------------------------
    def put_job(self, job: Job) -> None:
        key = (job.Namespace, job.ID)
        for view in self._views:
            view.jobs.keep(key, self.jobs.get(key, ABSENT))
        self.jobs[key] = job

    def delete_job(self, key: JobKey) -> Job | None:
        for view in self._views:
            view.jobs.keep(key, self.jobs.get(key, ABSENT))
        return self.jobs.pop(key, None)

    def put_node(self, node: Node) -> None:
        for view in self._views:
            view.nodes.keep(node.ID, self.nodes.get(node.ID, ABSENT), (None,))
        self.nodes[node.ID] = node

    def delete_node(self, node_id: str) -> None:
        for view in self._views:
            view.nodes.keep(node_id, self.nodes.get(node_id, ABSENT), (None,))
        self.nodes.pop(node_id, None)

    def _keep_alloc(self, alloc_id: str) -> None:
        old = self.allocs.get(alloc_id, ABSENT)
        groups = () if old is ABSENT else (("node", old.NodeID),
                                           ("job", (old.Namespace, old.JobID)))
        for view in self._views:
            view.allocs.keep(alloc_id, old, groups)

    # -- index maintenance used by the FSM ---------------------------------------------
    def node_usage(self, node_id: str) -> NodeUsage | None:
        """What the node's live (non-terminal) allocations use; None if nothing."""
        return self.usage_by_node.get(node_id)

    def _track_usage(self, old: Allocation | None, new: Allocation | None) -> None:
        if old is not None and not old.terminal():
            self._writable_usage(old.NodeID).remove(old)
        if new is not None and not new.terminal():
            self._writable_usage(new.NodeID).add(new)

    def _writable_usage(self, node_id: str) -> NodeUsage:
        """The node's usage, safe to change in place: copied first if a view may hold it."""
        usage = self.usage_by_node.get(node_id)
        if usage is not None and (not self._views or
                                  self._usage_generation.get(node_id) == self._generation):
            return usage
        for view in self._views:
            view.usage.keep(node_id, ABSENT if usage is None else usage)
        usage = NodeUsage() if usage is None else usage.copy()
        self._usage_generation[node_id] = self._generation
        self.usage_by_node[node_id] = usage
        return usage

    def put_alloc(self, alloc: Allocation) -> Allocation | None:
        """Store the alloc (its metrics and task states packed: see structs/packed.py)."""
        pack_alloc(alloc)
        if self._views:
            self._keep_alloc(alloc.ID)
        old = self.allocs.get(alloc.ID)
        self._track_usage(old, alloc)
        self.allocs[alloc.ID] = alloc
        if old is not None and old.NodeID != alloc.NodeID:
            self.allocs_by_node.get(old.NodeID, {}).pop(alloc.ID, None)
        self.allocs_by_node.setdefault(alloc.NodeID, {})[alloc.ID] = alloc
        self.allocs_by_job.setdefault((alloc.Namespace, alloc.JobID), {})[alloc.ID] = alloc
        return old

    def delete_alloc(self, alloc_id: str) -> None:
        if self._views:
            self._keep_alloc(alloc_id)
        alloc = self.allocs.pop(alloc_id, None)
        if alloc is None:
            return
        self._track_usage(alloc, None)
        _discard(self.allocs_by_node, alloc.NodeID, alloc_id)
        _discard(self.allocs_by_job, (alloc.Namespace, alloc.JobID), alloc_id)

    def put_eval(self, ev: Evaluation) -> None:
        for view in self._views:
            view.evals.keep(ev.ID, self.evals.get(ev.ID, ABSENT))
        self.evals[ev.ID] = ev
        self.evals_by_job.setdefault((ev.Namespace, ev.JobID), {})[ev.ID] = ev

    def put_deployment(self, d: Deployment) -> None:
        self._keep_deployment(d.ID)
        self.deployments[d.ID] = d
        self.deployments_by_job.setdefault((d.Namespace, d.JobID), {})[d.ID] = d

    def _keep_deployment(self, deployment_id: str) -> None:
        old = self.deployments.get(deployment_id, ABSENT)
        groups = () if old is ABSENT else ((old.Namespace, old.JobID),)
        for view in self._views:
            view.deployments.keep(deployment_id, old, groups)

    def delete_deployment(self, deployment_id: str) -> None:
        self._keep_deployment(deployment_id)
        d = self.deployments.pop(deployment_id, None)
        if d is not None:
            _discard(self.deployments_by_job, (d.Namespace, d.JobID), deployment_id)

    def delete_eval(self, eval_id: str) -> None:
        for view in self._views:
            view.evals.keep(eval_id, self.evals.get(eval_id, ABSENT))
        ev = self.evals.pop(eval_id, None)
        if ev is not None:
            _discard(self.evals_by_job, (ev.Namespace, ev.JobID), eval_id)


def _discard(index: dict, key, item_id: str) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.pop(item_id, None)
        if not bucket:
            del index[key]
