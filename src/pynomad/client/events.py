"""Task events with Nomad's types, details and display messages (`structs.TaskEvent`)."""

from __future__ import annotations

from pynomad.structs import TaskEvent

from ..helper.goformat import format_duration

SETUP_FAILURE = "Setup Failure"
DRIVER_FAILURE = "Driver Failure"
RECEIVED = "Received"
FAILED_VALIDATION = "Failed Validation"
STARTED = "Started"
TERMINATED = "Terminated"
KILLING = "Killing"
KILLED = "Killed"
RESTARTING = "Restarting"
NOT_RESTARTING = "Not Restarting"
RESTART_SIGNAL = "Restart Signaled"
SIGNALING = "Signaling"
TASK_SETUP = "Task Setup"
SIBLING_FAILED = "Sibling Task Failed"
DRIVER_MESSAGE = "Driver"
LEADER_DEAD = "Leader Task Dead"
MAIN_DEAD = "Main Tasks Dead"

BUILDING_TASK_DIR = "Building Task Directory"
REASON_WITHIN_POLICY = "Restart within policy"


def new_event(type_: str, time_ns: int, **fields) -> TaskEvent:
    """A TaskEvent of `type_` with its Details filled like Nomad's setters."""
    ev = TaskEvent(Type=type_, Time=time_ns, Details={})
    details = ev.Details
    if "OOMKilled" in fields:     # Nomad keeps it in the details only
        details["oom_killed"] = "true" if fields.pop("OOMKilled") else "false"
    for name, value in fields.items():
        setattr(ev, name, value)
        key = _DETAIL_KEYS.get(name)
        if key is not None:
            details[key] = _detail_value(name, value)
    if fields.get("Message"):
        details["exit_message" if type_ == TERMINATED else "message"] = fields["Message"]
    populate_display_message(ev)
    return ev


_DETAIL_KEYS = {
    "SetupError": "setup_error", "FailsTask": "fails_task", "DriverError": "driver_error",
    "ExitCode": "exit_code", "Signal": "signal", "KillError": "kill_error",
    "KillReason": "kill_reason", "StartDelay": "start_delay",
    "RestartReason": "restart_reason", "TaskSignalReason": "task_signal_reason",
    "TaskSignal": "task_signal", "ValidationError": "validation_error",
    "KillTimeout": "kill_timeout", "FailedSibling": "failed_sibling",
    "DriverMessage": "driver_message", "DownloadError": "download_error",
}


def _detail_value(name: str, value) -> str:
    if name == "FailsTask":
        return "true" if value else "false"
    if name == "KillTimeout":
        return format_duration(value)
    return str(value)


def populate_display_message(e: TaskEvent) -> None:
    """Nomad's `TaskEvent.PopulateEventDisplayMessage`."""
    if e.DisplayMessage:
        return
    e.DisplayMessage = _display(e)


def _display(e: TaskEvent) -> str:  # noqa: C901 - a flat table of cases
    t = e.Type
    if t == TASK_SETUP:
        return e.Message
    if t == STARTED:
        return "Task started by client"
    if t == RECEIVED:
        return "Task received by client"
    if t == FAILED_VALIDATION:
        return e.ValidationError or "Validation of task failed"
    if t == SETUP_FAILURE:
        return e.SetupError or "Task setup failed"
    if t == DRIVER_FAILURE:
        return e.DriverError or "Failed to start task"
    if t == KILLING:
        if e.KillReason:
            return e.KillReason
        if e.KillTimeout:
            return f"Sent interrupt. Waiting {format_duration(e.KillTimeout)} before force killing"
        return "Sent interrupt"
    if t == KILLED:
        return e.KillError or "Task successfully killed"
    if t == TERMINATED:
        parts = [f"Exit Code: {e.ExitCode}"]
        if e.Signal:
            parts.append(f"Signal: {e.Signal}")
        if e.Message:
            parts.append(f'Exit Message: "{e.Message}"')
        return ", ".join(parts)
    if t == RESTARTING:
        text = f"Task restarting in {format_duration(e.StartDelay)}"
        if e.RestartReason and e.RestartReason != REASON_WITHIN_POLICY:
            return f"{e.RestartReason} - {text}"
        return text
    if t == NOT_RESTARTING:
        return e.RestartReason or "Task exceeded restart policy"
    if t == SIBLING_FAILED:
        return f'Task\'s sibling "{e.FailedSibling}" failed' if e.FailedSibling \
            else "Task's sibling failed"
    if t == SIGNALING:
        sig, reason = e.TaskSignal, e.TaskSignalReason
        if not sig and not reason:
            return "Task being sent a signal"
        if not sig:
            return reason
        return f"Task being sent signal {sig}: {reason}" if reason \
            else f"Task being sent signal {sig}"
    if t == RESTART_SIGNAL:
        return e.RestartReason or "Task signaled to restart"
    if t == DRIVER_MESSAGE:
        return e.DriverMessage
    if t == LEADER_DEAD:
        return "Leader Task in Group dead"
    if t == MAIN_DEAD:
        return "Main tasks in the group died"
    return e.Message
