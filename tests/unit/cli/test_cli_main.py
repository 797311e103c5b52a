"""Dispatch, version, help, usage errors and connection errors."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import free_port

from pynomad import __version__


def test_version(run_cli) -> None:
    assert run_cli("version") == (0, f"Nomad v{__version__}\n", "")
    assert run_cli("-version")[1] == f"Nomad v{__version__}\n"
    assert run_cli("-v")[1] == "Nomad v1.6.5\n"


def test_console_script_version() -> None:
    out = subprocess.run([sys.executable, "-m", "pynomad.cli.main", "version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout == "Nomad v1.6.5\n"


def test_no_args_prints_usage_127(run_cli) -> None:
    code, out, _ = run_cli()
    assert code == 127
    assert out.startswith("Usage: nomad [-version] [-help]")
    assert "    run " in out


def test_unknown_command(run_cli) -> None:
    code, out, _ = run_cli("frobnicate")
    assert code == 127
    assert "Common commands:" in out


def test_noun_prints_subcommands(run_cli) -> None:
    code, out, _ = run_cli("job")
    assert code == 1
    assert "Subcommands:" in out and "    run " in out


def test_help_flag_anywhere(run_cli) -> None:
    code, out, err = run_cli("job", "status", "-verbose", "-h")
    assert code == 0
    assert out.startswith("Usage: nomad job status")
    assert err == ""


def test_alias_resolves(run_cli) -> None:
    code, out, _ = run_cli("run", "-help")
    assert code == 0 and out.startswith("Usage: nomad job run")


def test_unknown_flag_prints_error_and_usage(run_cli) -> None:
    code, out, err = run_cli("job", "run", "-bogus", "x.hcl")
    assert code == 1
    assert err == "flag provided but not defined: -bogus\n"
    assert out.startswith("Usage: nomad job run")


def test_wrong_arg_count(run_cli) -> None:
    code, out, err = run_cli("job", "run")
    assert code == 1
    assert err == ("This command takes one argument: <path>\n"
                   "For additional help try 'nomad job run -help'\n")


def test_flags_before_subcommand_rejected(run_cli) -> None:
    code, _, err = run_cli("-address=http://x", "status")
    assert code == 1
    assert err.startswith("Invalid flags before the subcommand.")


def test_connection_refused(run_cli) -> None:
    port = free_port()
    code, out, err = run_cli("job", "status", f"-address=http://127.0.0.1:{port}")
    assert code == 1
    assert out == ""
    assert err == (f'Error querying jobs: Get "http://127.0.0.1:{port}/v1/jobs": '
                   f"dial tcp 127.0.0.1:{port}: connect: connection refused\n")
    assert "Traceback" not in err


def test_connection_refused_env_and_subprocess() -> None:
    port = free_port()
    env = dict(os.environ, NOMAD_ADDR=f"http://127.0.0.1:{port}")
    for argv in (["status"], ["node", "status"], ["alloc", "status", "abcd"],
                 ["eval", "list"], ["server", "members"], ["system", "gc"],
                 ["job", "stop", "-yes", "example"], ["status", "example"]):
        proc = subprocess.run([sys.executable, "-m", "pynomad.cli.main", *argv],
                              capture_output=True, text=True, env=env)
        assert proc.returncode == 1, argv
        assert proc.stderr.startswith("Error"), (argv, proc.stderr)
        assert "connection refused" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_http_error_message(run_cli, fake_nomad) -> None:
    fake_nomad.route("GET", "/v1/jobs", [{"ID": "example", "Type": "service",
                                          "JobSummary": {"Namespace": "default"}}])
    fake_nomad.route("GET", "/v1/job/example", "job not found", status=404)
    code, _, err = run_cli("job", "status", "example")
    assert code == 1
    assert err == "Error querying job: Unexpected response code: 404 (job not found)\n"


def test_token_region_namespace_sent(run_cli, fake_nomad, monkeypatch) -> None:
    monkeypatch.setenv("NOMAD_TOKEN", "secret")
    monkeypatch.setenv("NOMAD_REGION", "east")
    fake_nomad.route("GET", "/v1/jobs", [])
    assert run_cli("job", "status", "-namespace=prod") == (0, "No running jobs\n", "")
    method, path, query, _, headers = fake_nomad.requests[-1]
    assert headers["X-Nomad-Token"] == "secret"
    assert query == {"region": ["east"], "namespace": ["prod"]}
