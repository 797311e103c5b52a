"""`nomad tls ca create`, `nomad tls cert create` and the CLI's TLS client options."""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pynomad.cli.api import APIError, Client, Config


@pytest.fixture
def certs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli) -> Path:
    """A CA plus server and CLI certificates made with the CLI in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for args in (("tls", "ca", "create"), ("tls", "cert", "create", "-server"),
                 ("tls", "cert", "create", "-cli")):
        code, out, err = run_cli(*args)
        assert code == 0, (args, out, err)
    return tmp_path


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _sans(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return ext.get_values_for_type(x509.DNSName), [str(i) for i in ext.get_values_for_type(x509.IPAddress)]


def _ekus(cert: x509.Certificate) -> set:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_ca_create_writes_nomads_files(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("tls", "ca", "create")
    assert code == 0, err
    assert out.splitlines() == ["==> CA certificate saved to: nomad-agent-ca.pem",
                                "==> CA certificate key saved to: nomad-agent-ca-key.pem"]
    ca = _cert(tmp_path / "nomad-agent-ca.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert ca.public_key().curve.name == "secp256r1"
    cn = ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn.startswith("Nomad Agent CA ")
    assert (tmp_path / "nomad-agent-ca-key.pem").stat().st_mode & 0o077 == 0
    # A second run does not overwrite the CA.
    code, _, err = run_cli("tls", "ca", "create")
    assert code == 1 and "Error" in err and "nomad-agent-ca.pem already exists" in err


def test_ca_create_options(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("tls", "ca", "create", "-name-constraint", "-domain", "foo.com",
                             "-common-name", "My CA", "-days", "10")
    assert code == 0, err
    ca = _cert(tmp_path / "foo.com-agent-ca.pem")
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "My CA"
    nc = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    assert [n.value for n in nc.permitted_subtrees] == ["foo.com", "localhost"]
    assert 9 <= (ca.not_valid_after_utc - ca.not_valid_before_utc).days <= 10


def test_cert_create_server_client_cli(certs, run_cli):
    server = _cert(certs / "global-server-nomad.pem")
    assert _sans(server) == (["server.global.nomad", "localhost"], ["127.0.0.1"])
    assert _ekus(server) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    cli = _cert(certs / "global-cli-nomad.pem")
    assert _sans(cli)[0] == ["cli.global.nomad", "localhost"]
    assert _ekus(cli) == {ExtendedKeyUsageOID.CLIENT_AUTH}
    ca = _cert(certs / "nomad-agent-ca.pem")
    for cert in (server, cli):
        cert.verify_directly_issued_by(ca)
    code, out, err = run_cli("tls", "cert", "create", "-client", "-region", "eu",
                             "-additional-dnsname", "nomad.example.com",
                             "-additional-ipaddress", "10.1.2.3")
    assert code == 0, err
    assert "==> Client Certificate saved to eu-client-nomad.pem" in out
    client = _cert(certs / "eu-client-nomad.pem")
    assert _sans(client) == (["client.eu.nomad", "localhost", "nomad.example.com"],
                             ["127.0.0.1", "10.1.2.3"])
    assert ExtendedKeyUsageOID.SERVER_AUTH in _ekus(client)
    # The key files load and match their certificates.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs / "eu-client-nomad.pem", certs / "eu-client-nomad-key.pem")


def test_cert_create_server_output(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    run_cli("tls", "ca", "create")
    code, out, _ = run_cli("tls", "cert", "create", "-server")
    assert code == 0
    assert out.startswith("==> WARNING: Server Certificates grants authority")
    assert out.rstrip().splitlines()[-3:] == [
        "==> Using CA file nomad-agent-ca.pem and CA key nomad-agent-ca-key.pem",
        "==> Server Certificate saved to global-server-nomad.pem",
        "==> Server Certificate key saved to global-server-nomad-key.pem"]


@pytest.mark.parametrize("args, message", [
    ((), "Please provide either -server, -client, or -cli"),
    (("-server", "-cli"), "Please provide either -server, -client, or -cli"),
    (("-client", "-ca", "missing.pem"), "missing.pem: no such file or directory"),
    (("-client", "-additional-ipaddress", "not-an-ip"), "not-an-ip"),
    (("-client", "-days", "0"), "-days must be a positive number"),
])
def test_cert_create_errors(certs, run_cli, args, message):
    code, _, err = run_cli("tls", "cert", "create", *args)
    assert code == 1
    assert err.startswith("Error") and message in err
    assert "Traceback" not in err


def test_cert_create_rejects_a_key_that_is_not_the_cas(certs, run_cli):
    code, _, err = run_cli("tls", "cert", "create", "-client", "-key", "global-cli-nomad-key.pem")
    assert code == 1 and "does not match CA certificate" in err
    code, _, err = run_cli("tls", "cert", "create", "-client", "-ca", "global-cli-nomad-key.pem")
    assert code == 1 and "is not a PEM encoded certificate" in err


# --------------------------------------------------------------------------------------
# the CLI's HTTPS client against a small mTLS server
# --------------------------------------------------------------------------------------

class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, ctx: ssl.SSLContext) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                raw = json.dumps([{"ID": "n1"}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        super().__init__(("127.0.0.1", 0), Handler)
        self.ctx = ctx

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(10)
        return self.ctx.wrap_socket(sock, server_side=True), addr

    def handle_error(self, request, client_address) -> None:
        pass


@pytest.fixture
def https(certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs / "global-server-nomad.pem", certs / "global-server-nomad-key.pem")
    ctx.load_verify_locations(certs / "nomad-agent-ca.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    server = _TLSServer(ctx)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_client_talks_mtls(https, certs):
    cfg = Config(address=https, ca_cert=str(certs / "nomad-agent-ca.pem"),
                 client_cert=str(certs / "global-cli-nomad.pem"),
                 client_key=str(certs / "global-cli-nomad-key.pem"))
    client = Client(cfg)
    assert client.get("/v1/nodes")[0] == [{"ID": "n1"}]
    client.close()


def test_cli_flags_and_env(https, certs, run_cli, monkeypatch):
    monkeypatch.setenv("NOMAD_ADDR", https)
    code, out, err = run_cli("node", "status", "-ca-cert", "nomad-agent-ca.pem",
                             "-client-cert", "global-cli-nomad.pem",
                             "-client-key", "global-cli-nomad-key.pem")
    assert "tls" not in err.lower(), err
    monkeypatch.setenv("NOMAD_CACERT", "nomad-agent-ca.pem")
    monkeypatch.setenv("NOMAD_CLIENT_CERT", "global-cli-nomad.pem")
    monkeypatch.setenv("NOMAD_CLIENT_KEY", "global-cli-nomad-key.pem")
    code2, out2, err2 = run_cli("node", "status")
    assert (code2, out2) == (code, out)
    # -tls-server-name checks the certificate against another name.
    monkeypatch.setenv("NOMAD_TLS_SERVER_NAME", "server.global.nomad")
    assert run_cli("node", "status")[:2] == (code, out)
    code, _, err = run_cli("node", "status", "-tls-server-name", "server.eu.nomad")
    assert code == 1 and "tls: failed to verify certificate" in err


def test_cli_tls_errors_are_reported(https, certs, run_cli, monkeypatch):
    monkeypatch.setenv("NOMAD_ADDR", https)
    # No CA: the server's certificate is not trusted.
    code, _, err = run_cli("node", "status")
    assert code == 1 and err.startswith("Error") and "failed to verify certificate" in err
    # A CA file that does not exist or is not a certificate.
    code, _, err = run_cli("node", "status", "-ca-cert", "nope.pem")
    assert code == 1 and err.startswith("Error initializing client") and "nope.pem" in err
    code, _, err = run_cli("node", "status", "-ca-cert", "global-cli-nomad-key.pem")
    assert code == 1 and "failed to load CA file" in err
    # A client key that does not match the certificate.
    code, _, err = run_cli("node", "status", "-ca-cert", "nomad-agent-ca.pem",
                           "-client-cert", "global-cli-nomad.pem",
                           "-client-key", "global-server-nomad-key.pem")
    assert code == 1 and "failed to load client cert" in err
    # -tls-skip-verify / NOMAD_SKIP_VERIFY skip the server check (client cert still needed).
    code, _, err = run_cli("node", "status", "-tls-skip-verify")
    assert code == 1 and "Traceback" not in err
    monkeypatch.setenv("NOMAD_SKIP_VERIFY", "true")
    monkeypatch.setenv("NOMAD_CLIENT_CERT", "global-cli-nomad.pem")
    monkeypatch.setenv("NOMAD_CLIENT_KEY", "global-cli-nomad-key.pem")
    code, _, err = run_cli("node", "status")
    assert "verify" not in err


def test_client_without_cert_is_refused(https, certs):
    client = Client(Config(address=https, ca_cert=str(certs / "nomad-agent-ca.pem")))
    with pytest.raises(APIError) as info:
        client.get("/v1/nodes")
    assert str(info.value).startswith(f'Get "{https}/v1/nodes": ')
