"""TLS end to end: certificates made with `nomad tls`, an agent serving HTTPS and mTLS RPC with
`verify_https_client`, and the CLI talking to it with the CLI certificate."""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import NOMAD, Agent, wait_for, write_job

JOB = """job "tls-hello" {
  datacenters = ["dc1"]
  type        = "batch"
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo hello over tls"]
      }
    }
  }
}
"""


class TLSAgent(Agent):
    """An agent whose HTTP API is HTTPS with client certificates required."""

    def __init__(self, tmp, **kwargs) -> None:
        super().__init__(tmp, **kwargs)
        self.addr = f"https://127.0.0.1:{self.http}"
        self.ssl = ssl.create_default_context(cafile=str(tmp / "nomad-agent-ca.pem"))
        self.ssl.load_cert_chain(tmp / "global-cli-nomad.pem", tmp / "global-cli-nomad-key.pem")

    def env(self) -> dict:
        env = super().env()
        env.update(NOMAD_CACERT=str(self.tmp / "nomad-agent-ca.pem"),
                   NOMAD_CLIENT_CERT=str(self.tmp / "global-cli-nomad.pem"),
                   NOMAD_CLIENT_KEY=str(self.tmp / "global-cli-nomad-key.pem"))
        return env

    def request(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.addr + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ssl) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()


def _make_certs(tmp) -> None:
    for args in (["tls", "ca", "create"], ["tls", "cert", "create", "-server"],
                 ["tls", "cert", "create", "-cli"]):
        proc = subprocess.run([NOMAD, *args], capture_output=True, text=True, cwd=tmp,
                              timeout=60)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)


@pytest.fixture
def tls_agent(tmp_path):
    _make_certs(tmp_path)
    hcl = ('tls {\n  http = true\n  rpc = true\n'
           f'  ca_file   = "{tmp_path}/nomad-agent-ca.pem"\n'
           f'  cert_file = "{tmp_path}/global-server-nomad.pem"\n'
           f'  key_file  = "{tmp_path}/global-server-nomad-key.pem"\n'
           '  verify_server_hostname = true\n  verify_https_client = true\n}\n')
    agent = TLSAgent(tmp_path, extra_hcl=hcl).start()
    yield agent
    agent.stop()


def test_job_runs_over_tls(tls_agent, tmp_path):
    a = tls_agent
    info = a.get("/v1/agent/self")["config"]["TLSConfig"]
    assert info["EnableHTTP"] and info["EnableRPC"] and info["VerifyHTTPSClient"]
    node = a.get("/v1/nodes")[0]
    assert a.get(f"/v1/node/{node['ID']}")["TLSEnabled"] is True

    job = write_job(tmp_path, "hello.hcl", JOB)
    run = a.nomad("job", "run", str(job))
    assert "Evaluation" in run.stdout
    allocs = a.wait_allocs("tls-hello", lambda al: al and all(
        x["ClientStatus"] == "complete" for x in al), what="tls-hello complete")
    assert len(allocs) == 1
    status = a.nomad("job", "status", "tls-hello")
    assert "tls-hello" in status.stdout

    # Flags instead of environment variables work the same.
    env = {k: v for k, v in a.env().items()
           if k not in ("NOMAD_CACERT", "NOMAD_CLIENT_CERT", "NOMAD_CLIENT_KEY")}
    flags = subprocess.run([NOMAD, "node", "status", "-address", a.addr,
                            "-ca-cert", "nomad-agent-ca.pem",
                            "-client-cert", "global-cli-nomad.pem",
                            "-client-key", "global-cli-nomad-key.pem"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert flags.returncode == 0, flags.stderr
    assert "ready" in flags.stdout


def test_requests_without_a_client_cert_are_refused(tls_agent, tmp_path):
    a = tls_agent
    # The CLI with the CA but no client certificate: an Error line, exit 1.
    env = {k: v for k, v in a.env().items() if k not in ("NOMAD_CLIENT_CERT", "NOMAD_CLIENT_KEY")}
    proc = subprocess.run([NOMAD, "node", "status"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error") and "Traceback" not in proc.stderr
    # No CA: the server's certificate is not trusted.
    env.pop("NOMAD_CACERT")
    proc = subprocess.run([NOMAD, "node", "status"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 1 and "failed to verify certificate" in proc.stderr
    # Raw HTTPS without a client certificate and plain HTTP are refused too.
    no_cert = ssl.create_default_context(cafile=str(tmp_path / "nomad-agent-ca.pem"))
    with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
        urllib.request.urlopen(a.addr + "/v1/nodes", timeout=30, context=no_cert).read()
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"http://127.0.0.1:{a.http}/v1/nodes", timeout=30).read()
    # The RPC port wants a client certificate as well.
    rpc_ctx = ssl.create_default_context(cafile=str(tmp_path / "nomad-agent-ca.pem"))
    rpc_ctx.check_hostname = False
    req = urllib.request.Request(f"https://127.0.0.1:{a.rpc}/rpc/Status.Ping", data=b"\x80",
                                 method="POST")
    with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
        urllib.request.urlopen(req, timeout=30, context=rpc_ctx).read()
    # The agent is still serving the CLI certificate.
    wait_for(lambda: a.get("/v1/status/leader"), 30, what="agent still up")
