"""Task event display messages match Nomad's."""

from pynomad.client import events as ev
from pynomad.structs import SECOND


def test_messages():
    assert ev.new_event(ev.RECEIVED, 1).DisplayMessage == "Task received by client"
    assert ev.new_event(ev.STARTED, 1).DisplayMessage == "Task started by client"
    assert ev.new_event(ev.TASK_SETUP, 1, Message=ev.BUILDING_TASK_DIR).DisplayMessage == \
        "Building Task Directory"
    t = ev.new_event(ev.TERMINATED, 1, ExitCode=3, Signal=0, Message="")
    assert t.DisplayMessage == "Exit Code: 3"
    assert t.Details == {"exit_code": "3", "signal": "0"}
    assert ev.new_event(ev.TERMINATED, 1, ExitCode=130, Signal=2).DisplayMessage == \
        "Exit Code: 130, Signal: 2"
    r = ev.new_event(ev.RESTARTING, 1, StartDelay=15 * SECOND,
                     RestartReason=ev.REASON_WITHIN_POLICY)
    assert r.DisplayMessage == "Task restarting in 15s"
    d = ev.new_event(ev.RESTARTING, 1, StartDelay=60 * SECOND,
                     RestartReason="Exceeded allowed attempts, applying a delay")
    assert d.DisplayMessage == "Exceeded allowed attempts, applying a delay - Task restarting in 1m0s"
    k = ev.new_event(ev.KILLING, 1, KillTimeout=5 * SECOND)
    assert k.DisplayMessage == "Sent interrupt. Waiting 5s before force killing"
    assert k.Details["kill_timeout"] == "5s"
    assert ev.new_event(ev.KILLED, 1).DisplayMessage == "Task successfully killed"
    nr = ev.new_event(ev.NOT_RESTARTING, 1, RestartReason="x", FailsTask=True)
    assert nr.DisplayMessage == "x" and nr.FailsTask and nr.Details["fails_task"] == "true"
    assert ev.new_event(ev.SIBLING_FAILED, 1, FailedSibling="db").DisplayMessage == \
        'Task\'s sibling "db" failed'
    assert ev.new_event(ev.LEADER_DEAD, 1).DisplayMessage == "Leader Task in Group dead"
    assert ev.new_event(ev.DRIVER_FAILURE, 1, DriverError="bad").DisplayMessage == "bad"
