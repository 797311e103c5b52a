"""The mock driver."""

import asyncio
import os

import pytest

from pynomad.client.driver import DriverError, TaskConfig
from pynomad.drivers.mock import MockDriver


def _cfg(config, tmp_path=None, id_="a/t/1"):
    kw = {}
    if tmp_path is not None:
        kw = {"stdout_path": os.path.join(str(tmp_path), "t.stdout"),
              "stderr_path": os.path.join(str(tmp_path), "t.stderr")}
    return TaskConfig(id=id_, alloc_id="a", task_name="t", config=config, **kw)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_run_for_and_exit_code():
    async def main():
        d = MockDriver()
        h = await d.start(_cfg({"run_for": "20ms", "exit_code": 4}))
        res = await d.wait(h)
        assert res.exit_code == 4 and not res.successful()
    run(main())


def test_start_error():
    async def main():
        d = MockDriver()
        with pytest.raises(DriverError) as e:
            await d.start(_cfg({"start_error": "nope", "start_error_recoverable": True}))
        assert e.value.recoverable and str(e.value) == "nope"
    run(main())


def test_stop_and_kill_after():
    async def main():
        d = MockDriver()
        h = await d.start(_cfg({"run_for": "1h"}))
        await d.stop(h, 5, "SIGINT")
        res = await d.wait(h)
        assert res.signal == 2
        h2 = await d.start(_cfg({"run_for": "1h", "kill_after": "1h"}, id_="a/t/2"))
        await d.stop(h2, 0.01, "SIGINT")
        assert (await d.wait(h2)).signal == 9
    run(main())


def test_stdout(tmp_path):
    async def main():
        d = MockDriver()
        h = await d.start(_cfg({"run_for": "100ms", "stdout_string": "hello\n",
                                "stdout_repeat": 2, "stdout_repeat_duration": "10ms"}, tmp_path))
        await d.wait(h)
        await asyncio.sleep(0)
        with open(os.path.join(str(tmp_path), "t.stdout.0")) as f:
            assert f.read() == "hello\n" * 3
    run(main())


def test_recover_resumes_remaining_time():
    async def main():
        h = await MockDriver().start(_cfg({"run_for": "50ms", "exit_code": 2}))
        fresh = MockDriver()
        assert fresh.recover(h)
        assert (await fresh.wait(h)).exit_code == 2
    run(main())
