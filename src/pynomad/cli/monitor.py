"""The evaluation monitor (``job run``, ``job stop``, ``eval status -monitor``) and the
deployment monitor, printing exactly what Nomad's ``command/monitor.go`` prints.

The evaluation is watched with blocking queries (``?index=N&wait=``) instead of
Nomad's one-second polling, so transitions are reported as soon as the server
commits them. Exit codes: 0 success, 2 placement failures, 1 any other error
(including a failed deployment).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pynomad.cli import views
from pynomad.cli.api import APIError, Client, path_id
from pynomad.cli.format import FULL_ID, go_duration, go_quote, limit, now_str
from pynomad.cli.ui import Ui

TERMINAL_EVAL = ("complete", "failed", "canceled", "cancelled")
TERMINAL_DEPLOY = ("successful", "failed", "cancelled", "canceled", "blocked")
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_WAIT = "5s"


@dataclass
class AllocState:
    id: str
    group: str
    node: str
    desired: str
    client: str
    client_desc: str
    index: int


@dataclass
class EvalState:
    status: str = "pending"
    node: str = ""
    deployment: str = ""
    job: str = ""
    wait: int = 0
    index: int = 0
    allocs: dict[str, AllocState] = field(default_factory=dict)


class Monitor:
    """Watches one evaluation (and the chain it spawns) and prints updates."""

    def __init__(self, ui: Ui, client: Client, length: int) -> None:
        self.ui = ui.prefixed("==> ", "    ", "==> ")
        self.raw_ui = ui
        self.client = client
        self.length = length
        self.state = EvalState()

    def _out(self, text: str) -> None:
        self.ui.output(f"{now_str()}: {text}")

    def update(self, new: EvalState) -> None:
        """Print the differences between the previous state and ``new``."""
        old = self.state
        if not old.node and new.node:
            self._out(f"Evaluation triggered by node {go_quote(limit(new.node, self.length))}")
        if not old.job and new.job:
            self._out(f"Evaluation triggered by job {go_quote(new.job)}")
        if not old.deployment and new.deployment:
            self._out("Evaluation within deployment: "
                      f"{go_quote(limit(new.deployment, self.length))}")
        for alloc_id, alloc in new.allocs.items():
            prev = old.allocs.get(alloc_id)
            if prev is None:
                if alloc.index < new.index:
                    verb = "modified"
                elif alloc.desired == "run":
                    verb = "created"
                else:
                    continue
                self._out(f"Allocation {go_quote(limit(alloc.id, self.length))} {verb}: node "
                          f"{go_quote(limit(alloc.node, self.length))}, group {go_quote(alloc.group)}")
            elif prev.client != alloc.client:
                desc = f" ({alloc.client_desc})" if alloc.client_desc else ""
                self._out(f"Allocation {go_quote(limit(alloc.id, self.length))} status changed: "
                          f"{go_quote(prev.client)} -> {go_quote(alloc.client)}{desc}")
        if old.status and new.status != "pending" and old.status != new.status:
            self._out(f"Evaluation status changed: {go_quote(old.status)} -> {go_quote(new.status)}")
        self.state = new

    def monitor(self, eval_id: str) -> int:
        """Monitor ``eval_id`` to completion; returns the command's exit code."""
        self.state = EvalState()
        self.ui.info(f"{now_str()}: Monitoring evaluation {go_quote(limit(eval_id, self.length))}")
        index = 0
        while True:
            try:
                params = {"index": index, "wait": _WAIT} if index else None
                ev, meta = self.client.get(f"/v1/evaluation/{eval_id}", params)
            except APIError:
                self.ui.error(f"No evaluation with id {go_quote(eval_id)} found")
                return 1
            if not ev:
                self.ui.error(f"No evaluation with id {go_quote(eval_id)} found")
                return 1
            try:
                allocs, _ = self.client.get(f"/v1/evaluation/{ev['ID']}/allocations")
            except APIError as exc:
                self.ui.error(f"{now_str()}: Error reading allocations: {exc}")
                return 1
            self.update(_eval_state(ev, allocs or []))
            if ev.get("Status") in TERMINAL_EVAL:
                break
            if meta.last_index <= index:
                time.sleep(0.25)
            index = max(index, meta.last_index)
        failed = self._report_finished(ev)
        next_eval = ev.get("NextEval") or ""
        if next_eval:
            wait = int(ev.get("Wait") or 0)
            if wait:
                self.ui.info(f"{now_str()}: Monitoring next evaluation "
                             f"{go_quote(limit(next_eval, self.length))} in {go_duration(wait)}")
                time.sleep(wait / 1e9)
            return self.monitor(next_eval)
        if self.state.deployment:
            dep_id = self.state.deployment
            self.ui.info(f"{now_str()}: Monitoring deployment {go_quote(limit(dep_id, self.length))}")
            status = DeploymentMonitor(self.ui, self.client, self.length == FULL_ID).run(dep_id)
            if status != "successful":
                return 1
        return 2 if failed else 0

    def _report_finished(self, ev: dict[str, Any]) -> bool:
        eid = go_quote(limit(ev.get("ID"), self.length))
        status = go_quote(ev.get("Status") or "")
        failed = ev.get("FailedTGAllocs") or {}
        if not failed:
            self.ui.info(f"{now_str()}: Evaluation {eid} finished with status {status}")
            return False
        self.ui.info(f"{now_str()}: Evaluation {eid} finished with status {status} "
                     "but failed to place all allocations:")
        for tg, metrics in failed.items():
            coalesced = int((metrics or {}).get("CoalescedFailures") or 0)
            noun = "allocations" if coalesced > 0 else "allocation"
            self._out(f"Task Group {go_quote(tg)} (failed to place {coalesced + 1} {noun}):")
            for line in views.alloc_metrics(metrics, False, "  ").split("\n"):
                self.ui.output(line)
        if ev.get("BlockedEval"):
            self._out(f"Evaluation {go_quote(limit(ev['BlockedEval'], self.length))} "
                      "waiting for additional capacity to place remainder")
        return True


def _eval_state(ev: dict[str, Any], allocs: list[dict[str, Any]]) -> EvalState:
    state = EvalState(status=ev.get("Status") or "", node=ev.get("NodeID") or "",
                      deployment=ev.get("DeploymentID") or "", job=ev.get("JobID") or "",
                      wait=int(ev.get("Wait") or 0), index=int(ev.get("CreateIndex") or 0))
    for a in allocs:
        state.allocs[a["ID"]] = AllocState(
            id=a["ID"], group=a.get("TaskGroup") or "", node=a.get("NodeID") or "",
            desired=a.get("DesiredStatus") or "", client=a.get("ClientStatus") or "",
            client_desc=a.get("ClientDescription") or "", index=int(a.get("CreateIndex") or 0))
    return state


class DeploymentMonitor:
    """Follows a deployment until it reaches a terminal status (deployment_status.go)."""

    def __init__(self, ui: Ui, client: Client, verbose: bool) -> None:
        self.ui = ui
        self.client = client
        self.verbose = verbose
        self.length = 36 if verbose else 8
        self.tty = ui.is_tty()
        self._drawn = 0
        self._frame = 0

    def run(self, dep_id: str, index: int = 0) -> str:
        """Block until the deployment ends; returns its final status ('' on error)."""
        while True:
            try:
                params = {"index": index, "wait": "1s" if self.tty else "5m",
                          "stale": True} if index else None
                dep, meta = self.client.get(f"/v1/deployment/{dep_id}", params)
            except APIError as exc:
                self.ui.error(f"{now_str()}: Error fetching deployment: {exc}")
                return ""
            if not dep:
                self.ui.error(f"{now_str()}: Error fetching deployment: deployment not found")
                return ""
            status = dep.get("Status") or ""
            changed = meta.last_index > index or index == 0
            if self.tty:
                self._draw(dep_id, dep, status)
            elif changed:
                self.ui.output(self.ui.colorize("\n" + self._info(dep_id, dep)))
            if status in TERMINAL_DEPLOY:
                if status == "failed" and _has_auto_revert(dep):
                    return self._follow_rollback(dep, status)
                return status
            if not changed:
                time.sleep(0.25)
            index = max(index, meta.last_index)

    def _info(self, dep_id: str, dep: dict[str, Any]) -> str:
        text = now_str() + "\n" + views.deployment(dep, self.length)
        if self.verbose:
            text += "\n\n[bold]Allocations[reset]\n"
            try:
                allocs, _ = self.client.get(f"/v1/deployment/allocations/{dep_id}")
                text += views.alloc_list_stubs(allocs or [], True, self.length)
            except APIError as exc:
                text += f"Error fetching allocations: {exc}"
        return text

    def _draw(self, dep_id: str, dep: dict[str, Any], status: str) -> None:
        """Redraw the status block in place (what Nomad renders with glint on a tty)."""
        short = limit(dep_id, self.length)
        if status == "successful":
            head = f"  ✓ Deployment {go_quote(short)} {status}"
        elif status in TERMINAL_DEPLOY:
            head = f"  ! Deployment {go_quote(short)} {status}"
        else:
            self._frame = (self._frame + 1) % len(_SPINNER)
            head = f"  {_SPINNER[self._frame]} Deployment {go_quote(short)} in progress..."
        body = self.ui.colorize(self._info(dep_id, dep)).split("\n")
        lines = [head, ""] + ["    " + line if line else "" for line in body]
        if status in TERMINAL_DEPLOY:
            lines.append("")
        out = self.ui.stdout
        if self._drawn:
            out.write(f"\x1b[{self._drawn}F\x1b[J")
        out.write("\n".join(lines) + "\n")
        out.flush()
        self._drawn = len(lines)

    def _follow_rollback(self, dep: dict[str, Any], status: str) -> str:
        time.sleep(1)
        try:
            rollback, _ = self.client.get(f"/v1/job/{path_id(dep.get('JobID') or '')}/deployment",
                                          namespace=dep.get("Namespace") or None)
        except APIError as exc:
            self.ui.output("")
            self.ui.error(f"{now_str()}: Error fetching deployment of previous job version: {exc}")
            return status
        self.ui.output("")
        if not rollback or rollback.get("ID") == dep.get("ID"):
            return status
        self._drawn = 0
        self.run(rollback["ID"])
        return status


def _has_auto_revert(dep: dict[str, Any]) -> bool:
    return any(g.get("AutoRevert") for g in (dep.get("TaskGroups") or {}).values())
