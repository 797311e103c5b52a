"""The event stream of a real `nomad agent -dev`, read as python-nomad users read it
(`nomad.event.stream.get_stream()`) and as raw ndjson."""

from __future__ import annotations

import json
import queue
import time
import urllib.request

import nomad
import pytest

from conftest import write_job

JOB = '''
job "evt" {
  type        = "batch"
  datacenters = ["dc1"]
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "sleep 2"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
'''


def collect(events: queue.Queue, pred, timeout: float = 60) -> list[dict]:
    """Frames from `events` until one satisfies `pred`; fail after `timeout` seconds."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = events.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(frame)
        if pred(seen):
            return seen
    raise AssertionError(f"expected events never came; saw {seen!r}")


def events_of(frames) -> list[dict]:
    return [e for f in frames for e in f["Events"]]


def test_job_run_streams_job_and_allocation_events(dev_agent):
    if not hasattr(nomad.Nomad, "event"):
        pytest.skip("python-nomad without the event API")
    client = nomad.Nomad(host="127.0.0.1", port=dev_agent.http, timeout=30)
    stream, stop, events = client.event.stream.get_stream(
        topic=["Job:evt", "Allocation:evt"], timeout=60)
    stream.daemon = True
    stream.start()
    try:
        dev_agent.nomad("job", "run", "-detach", str(write_job(dev_agent.tmp, "evt.nomad", JOB)))

        def done(frames):
            evs = events_of(frames)
            return (any(e["Type"] == "JobRegistered" for e in evs)
                    and any(e["Topic"] == "Allocation" and e["Type"] == "AllocationUpdated"
                            and e["Payload"]["Allocation"]["ClientStatus"] == "running"
                            for e in evs))
        frames = collect(events, done)
    finally:
        stop.set()
    evs = events_of(frames)
    registered = next(e for e in evs if e["Type"] == "JobRegistered")
    assert registered["Topic"] == "Job" and registered["Key"] == "evt"
    assert registered["Payload"]["Job"]["ID"] == "evt"
    allocs = [e for e in evs if e["Topic"] == "Allocation"]
    assert {e["Type"] for e in allocs} >= {"PlanResult", "AllocationUpdated"}
    for e in allocs:
        assert e["Payload"]["Allocation"]["JobID"] == "evt"
        assert e["Payload"]["Allocation"].get("Job") is None  # stripped, as Nomad does
        assert "evt" in e["FilterKeys"] and e["Namespace"] == "default"
    for f in frames:
        assert all(e["Index"] == f["Index"] for e in f["Events"])

    # a raw reader replays the backlog from an index: the same registration comes first
    url = f"{dev_agent.addr}/v1/event/stream?topic=Job:evt&index={registered['Index']}"
    with urllib.request.urlopen(url, timeout=30) as resp:
        first = json.loads(resp.readline())
    assert first["Index"] == registered["Index"]
    assert first["Events"][0]["Type"] == "JobRegistered"
