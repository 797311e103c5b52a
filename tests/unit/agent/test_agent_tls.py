"""The agent's `tls` block: settings, SSL contexts, start-up errors and RPC over mTLS."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from pathlib import Path

import msgspec
import pytest
from aiohttp import web

from pynomad.agent import build_config, main
from pynomad.agent import tls as agent_tls
from pynomad.agent.agent import Agent
from pynomad.agent.config import AgentConfig, ConfigError
from pynomad.cli.tls import create_ca, create_cert, load_ca
from pynomad.client.rpc import NoServersError, RPCClient


def _write_pair(d: Path, name: str, cert: bytes, key: bytes) -> None:
    (d / f"{name}.pem").write_bytes(cert)
    (d / f"{name}-key.pem").write_bytes(key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    _write_pair(d, "ca", *create_ca(days=30))
    ca_cert, ca_key = load_ca(str(d / "ca.pem"), str(d / "ca-key.pem"))
    lo = [ipaddress.ip_address("127.0.0.1")]
    for kind, region in (("server", "global"), ("client", "global"), ("server", "eu")):
        name = f"{kind}.{region}.nomad"
        _write_pair(d, f"{region}-{kind}", *create_cert(ca_cert, ca_key, name,
                                                         [name, "localhost"], lo, 30))
    _write_pair(d, "other-ca", *create_ca(days=30))
    return d


def _settings(pki: Path, cert: str = "global-server", **extra) -> agent_tls.TLSSettings:
    block = {"http": True, "rpc": True, "ca_file": str(pki / "ca.pem"),
             "cert_file": str(pki / f"{cert}.pem"), "key_file": str(pki / f"{cert}-key.pem"),
             **extra}
    return agent_tls.settings({"tls": [block]})


def test_settings_parse_the_block():
    tls = agent_tls.settings({"tls": [{"http": True, "rpc": "true", "verify_server_hostname": True,
                                       "ca_file": "ca.pem"}]})
    assert (tls.http, tls.rpc, tls.verify_server_hostname, tls.verify_https_client) == \
        (True, True, True, False)
    assert tls.ca_file == "ca.pem" and tls.enabled
    assert not agent_tls.settings({}).enabled
    assert agent_tls.rpc_server_name("eu") == "server.eu.nomad"


def test_contexts(pki):
    tls = _settings(pki, verify_https_client=True)
    agent_tls.validate(tls)
    assert agent_tls.http_server_context(tls).verify_mode == ssl.CERT_REQUIRED
    assert agent_tls.rpc_server_context(tls).verify_mode == ssl.CERT_REQUIRED
    assert agent_tls.http_server_context(_settings(pki)).verify_mode == ssl.CERT_NONE
    client = agent_tls.rpc_client_context(_settings(pki, verify_server_hostname=True))
    assert client.check_hostname and client.verify_mode == ssl.CERT_REQUIRED
    assert not agent_tls.rpc_client_context(_settings(pki)).check_hostname


@pytest.mark.parametrize("change, message", [
    ({"cert_file": "/nonexistent/cert.pem"}, "tls.cert_file: open /nonexistent/cert.pem: no such file"),
    ({"key_file": "/nonexistent/key.pem"}, "tls.key_file: open /nonexistent/key.pem"),
    ({"ca_file": ""}, "tls.ca_file is required when tls.rpc is enabled"),
    ({"key_file": "{pki}/global-client-key.pem"}, "failed to load cert"),
    ({"ca_file": "{pki}/ca-key.pem"}, "tls.ca_file: failed to load CA file"),
    ({"tls_min_version": "tls99"}, "tls.tls_min_version"),
])
def test_unusable_settings_name_the_file(pki, change, message):
    change = {k: v.replace("{pki}", str(pki)) for k, v in change.items()}
    with pytest.raises(ConfigError) as info:
        agent_tls.validate(_settings(pki, **change))
    assert message.replace("{pki}", str(pki)) in str(info.value)


def test_agent_refuses_to_start(pki, tmp_path, capsys):
    conf = tmp_path / "tls.hcl"
    conf.write_text('tls {\n  http = true\n  rpc = true\n'
                    f'  ca_file = "{pki}/ca.pem"\n  cert_file = "{tmp_path}/missing.pem"\n'
                    f'  key_file = "{pki}/global-server-key.pem"\n}}\n')
    with pytest.raises(ConfigError, match="missing.pem"):
        build_config(["-dev", "-config", str(conf)])
    assert main(["-dev", "-config", str(conf)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("==> Error loading configuration: ") and f"{tmp_path}/missing.pem" in err


def test_self_info_reports_tls(pki):
    cfg = AgentConfig(name="n1", extra={"tls": {"http": True, "rpc": False,
                                                "ca_file": str(pki / "ca.pem")}})
    info = Agent(cfg).self_info()["config"]["TLSConfig"]
    assert info["EnableHTTP"] is True and info["EnableRPC"] is False
    assert info["CAFile"] == str(pki / "ca.pem")
    assert Agent(AgentConfig(name="n2")).self_info()["config"]["TLSConfig"]["EnableHTTP"] is False


# --------------------------------------------------------------------------------------
# RPC over mTLS on a loopback port
# --------------------------------------------------------------------------------------

async def _with_rpc_server(server_tls: agent_tls.TLSSettings, fn):
    async def ping(request: web.Request) -> web.Response:
        return web.Response(body=msgspec.msgpack.encode({"Leader": "x"}),
                            content_type="application/msgpack")

    app = web.Application()
    app.router.add_post("/rpc/{method}", ping)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=agent_tls.rpc_server_context(server_tls))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        return await fn(f"127.0.0.1:{port}")
    finally:
        await runner.cleanup()


async def _ping(addr: str, ctx, name=None):
    client = RPCClient([addr], timeout_s=10, ssl_context=ctx, server_hostname=name)
    try:
        return await client.call("Status.Ping", {})
    finally:
        await client.close()


def test_rpc_mtls(pki):
    server = _settings(pki)
    client = _settings(pki, cert="global-client", verify_server_hostname=True)
    name = agent_tls.rpc_server_name("global")

    async def scenario(addr):
        assert await _ping(addr, agent_tls.rpc_client_context(client), name) == {"Leader": "x"}
        # The server certificate is for server.global.nomad, not server.eu.nomad.
        with pytest.raises(NoServersError, match="server.eu.nomad"):
            await _ping(addr, agent_tls.rpc_client_context(client), "server.eu.nomad")
        # Without verify_server_hostname only the chain is checked.
        plain = agent_tls.rpc_client_context(_settings(pki, cert="global-client"))
        assert await _ping(addr, plain) == {"Leader": "x"}
        # No client certificate: the server refuses the connection.
        no_cert = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        no_cert.check_hostname = False
        with pytest.raises(NoServersError):
            await _ping(addr, no_cert)
        # A certificate from another CA is refused too.
        foreign = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        foreign.check_hostname = False
        foreign.load_cert_chain(pki / "other-ca.pem", pki / "other-ca-key.pem")
        with pytest.raises(NoServersError):
            await _ping(addr, foreign)

    asyncio.run(_with_rpc_server(server, scenario))


def test_rpc_client_rejects_a_server_of_another_region(pki):
    server = _settings(pki, cert="eu-server")
    client = _settings(pki, cert="global-client", verify_server_hostname=True)

    async def scenario(addr):
        with pytest.raises(NoServersError, match="server.global.nomad"):
            await _ping(addr, agent_tls.rpc_client_context(client),
                        agent_tls.rpc_server_name("global"))

    asyncio.run(_with_rpc_server(server, scenario))
