"""``nomad tls ca create`` and ``nomad tls cert create``: a private CA and agent/CLI certificates.

Like Nomad: ECDSA P-256 keys, the CA in ``<domain>-agent-ca.pem`` / ``-key.pem``, certificates
in ``<region>-<server|client|cli>-<domain>.pem`` / ``-key.pem`` in the current directory, with
the SANs ``<kind>.<region>.<domain>``, ``localhost`` and ``127.0.0.1``. Server and client
certificates are good for server and client auth, CLI certificates for client auth only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pynomad.cli.meta import Meta

HELP = {
    "tls": """Usage: nomad tls <subcommand> [options]

  This command groups subcommands for creating certificates for Nomad TLS.""",
    "tls ca": """Usage: nomad tls ca <subcommand> [options]

  This command groups subcommands for interacting with certificate authorities.""",
    "tls ca create": """Usage: nomad tls ca create [options]

  Create a new certificate authority.

CA Create Options:

  -additional-domain=<string>
    Add name constraints for the CA. May be given multiple times; only used
    with -name-constraint.

  -common-name
    Common Name of CA. Defaults to "Nomad Agent CA".

  -country, -locality, -organization, -organizational-unit, -postal-code,
  -province, -street-address
    Subject fields of the CA.

  -days=<int>
    Provide number of days the CA is valid for from now on. Defaults to 5 years.

  -domain=<string>
    Domain of Nomad cluster. Only used in combination with -name-constraint.
    Defaults to "nomad".

  -name-constraint
    Add name constraints for the CA. Results in rejecting certificates
    for other DNS than specified. If turned on localhost and -domain will be
    added to the allowed DNS. Defaults to false.""",
    "tls cert": """Usage: nomad tls cert <subcommand> [options]

  This command groups subcommands for interacting with certificates.""",
    "tls cert create": """Usage: nomad tls cert create [options]

  Create a new certificate for a Nomad server, client or the CLI.

Certificate Create Options:

  -additional-dnsname=<string>
    Provide an additional dnsname for Subject Alternative Names.
    localhost is always included. May be given multiple times.

  -additional-ipaddress=<string>
    Provide an additional ipaddress for Subject Alternative Names.
    127.0.0.1 is always included. May be given multiple times.

  -ca=<string>
    Provide path to the certificate authority certificate. Defaults to
    #DOMAIN#-agent-ca.pem.

  -cli
    Generate a certificate for use with the Nomad CLI.

  -client
    Generate a client certificate.

  -days=<int>
    Provide number of days the certificate is valid for from now on.
    Defaults to 1 year.

  -dc=<string>
    Provide the datacenter (accepted for compatibility).

  -domain=<string>
    Provide the domain. Defaults to "nomad".

  -key=<string>
    Provide path to the certificate authority key. Defaults to
    #DOMAIN#-agent-ca-key.pem.

  -node=<string>
    When generating a client certificate, the node name (accepted for compatibility).

  -region=<string>
    Provide the region. Defaults to "global".

  -server
    Generate a server certificate.""",
}

CA_FLAGS = {"additional-domain": "list", "common-name": "str", "country": "str",
            "days": "int", "domain": "str", "locality": "str", "name-constraint": "bool",
            "organization": "str", "organizational-unit": "str", "postal-code": "str",
            "province": "str", "street-address": "str"}
CERT_FLAGS = {"additional-dnsname": "list", "additional-ipaddress": "list", "ca": "str",
              "cli": "bool", "client": "bool", "cluster-region": "str", "days": "int",
              "dc": "str", "domain": "str", "key": "str", "node": "str", "region": "str",
              "server": "bool"}

SERVER_WARNING = """==> WARNING: Server Certificates grants authority to become a
    server and access all state in the cluster including root keys
    and all ACL tokens. Do not distribute them to production hosts
    that are not server nodes. Store them as securely as CA keys."""


class TLSError(Exception):
    """A certificate could not be created; the message is printed after ``Error ``."""


# --------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------

def ca_create(meta: "Meta", args: list[str]) -> int:
    opts, rest = meta.parse(args, CA_FLAGS, client=False,
                            initial={"days": 1825, "domain": "nomad", "country": "US",
                                     "locality": "San Francisco", "organization": "HashiCorp Inc.",
                                     "organizational-unit": "Nomad", "postal-code": "94105",
                                     "province": "CA", "street-address": "101 Second Street"})
    if rest:
        raise meta.usage_error("This command takes no arguments")
    if opts["additional-domain"] and not opts["name-constraint"]:
        raise meta.fail("Error: -additional-domain requires -name-constraint")
    domain = opts["domain"] or "nomad"
    cert_file, key_file = f"{domain}-agent-ca.pem", f"{domain}-agent-ca-key.pem"
    for path in (cert_file, key_file):
        if os.path.exists(path):
            raise meta.fail(f"Error: file {path} already exists")
    try:
        cert_pem, key_pem = create_ca(
            days=opts["days"], common_name=opts["common-name"],
            permitted=([domain, "localhost", *opts["additional-domain"]]
                       if opts["name-constraint"] else None),
            subject={k: opts[k] for k in ("country", "locality", "organization",
                                          "organizational-unit", "postal-code", "province",
                                          "street-address")})
        _write(cert_file, cert_pem, 0o644)
        _write(key_file, key_pem, 0o600)
    except (TLSError, OSError) as err:
        raise meta.fail(f"Error creating CA: {_describe(err)}") from None
    meta.ui.output(f"==> CA certificate saved to: {cert_file}")
    meta.ui.output(f"==> CA certificate key saved to: {key_file}")
    return 0


def cert_create(meta: "Meta", args: list[str]) -> int:
    opts, rest = meta.parse(args, CERT_FLAGS, client=False,
                            initial={"days": 365, "domain": "nomad", "dc": "dc1"})
    if rest:
        raise meta.usage_error("This command takes no arguments")
    kinds = [k for k in ("server", "client", "cli") if opts[k]]
    if len(kinds) != 1:
        raise meta.usage_error("Error: Please provide either -server, -client, or -cli")
    kind = kinds[0]
    domain = opts["domain"] or "nomad"
    region = opts["region"] or opts["cluster-region"] or "global"
    ca_file = opts["ca"] or f"{domain}-agent-ca.pem"
    ca_key_file = opts["key"] or f"{domain}-agent-ca-key.pem"
    prefix = f"{region}-{kind}-{domain}"
    cert_file, key_file = f"{prefix}.pem", f"{prefix}-key.pem"
    for path in (cert_file, key_file):
        if os.path.exists(path):
            raise meta.fail(f"Error: file {path} already exists")
    try:
        ips = [ipaddress.ip_address("127.0.0.1")]
        ips += [ipaddress.ip_address(ip) for ip in opts["additional-ipaddress"]]
    except ValueError as err:
        raise meta.fail(f"Error: {err}") from None
    name = f"{kind}.{region}.{domain}"
    dns = [name, "localhost", *opts["additional-dnsname"]]
    if kind == "server":
        meta.ui.output(SERVER_WARNING)
    try:
        ca_cert, ca_key = load_ca(ca_file, ca_key_file)
        cert_pem, key_pem = create_cert(ca_cert, ca_key, name, dns, ips, opts["days"],
                                        server_auth=kind != "cli")
        meta.ui.output(f"==> Using CA file {ca_file} and CA key {ca_key_file}")
        _write(cert_file, cert_pem, 0o644)
        _write(key_file, key_pem, 0o600)
    except (TLSError, OSError) as err:
        raise meta.fail(f"Error: {_describe(err)}") from None
    title = kind.capitalize()
    meta.ui.output(f"==> {title} Certificate saved to {cert_file}")
    meta.ui.output(f"==> {title} Certificate key saved to {key_file}")
    return 0


def _write(path: str, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _describe(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror and err.filename:
        return f"open {err.filename}: {err.strerror.lower()}"
    return str(err)


# --------------------------------------------------------------------------------------
# certificate building (cryptography)
# --------------------------------------------------------------------------------------

_SUBJECT_OIDS = {"country": "COUNTRY_NAME", "province": "STATE_OR_PROVINCE_NAME",
                 "locality": "LOCALITY_NAME", "street-address": "STREET_ADDRESS",
                 "postal-code": "POSTAL_CODE", "organization": "ORGANIZATION_NAME",
                 "organizational-unit": "ORGANIZATIONAL_UNIT_NAME"}


def _new_key():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key) -> bytes:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _validity(days: int) -> tuple[dt.datetime, dt.datetime]:
    if days <= 0:
        raise TLSError("-days must be a positive number of days")
    now = dt.datetime.now(dt.timezone.utc)
    return now - dt.timedelta(minutes=1), now + dt.timedelta(days=days)


def create_ca(days: int = 1825, common_name: str = "", permitted: list[str] | None = None,
              subject: dict[str, str] | None = None) -> tuple[bytes, bytes]:
    """A self-signed CA: (certificate PEM, key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = _new_key()
    serial = x509.random_serial_number()
    attrs = [x509.NameAttribute(getattr(NameOID, _SUBJECT_OIDS[k]), v)
             for k, v in (subject or {}).items() if v and k in _SUBJECT_OIDS]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME,
                                    common_name or f"Nomad Agent CA {serial}"[:64]))
    name = x509.Name(attrs)
    not_before, not_after = _validity(days)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(_key_usage(cert_sign=True), critical=True)
               .add_extension(ski, critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                              critical=False))
    if permitted:
        builder = builder.add_extension(x509.NameConstraints(
            permitted_subtrees=[x509.DNSName(d) for d in permitted], excluded_subtrees=None),
            critical=True)
    cert = builder.sign(key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _key_usage(cert_sign: bool):  # type: ignore[no-untyped-def]
    from cryptography import x509

    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=not cert_sign, data_encipherment=False,
                         key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


def load_ca(cert_file: str, key_file: str):  # type: ignore[no-untyped-def]
    """Read the CA certificate and key; TLSError names the file that cannot be used."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    with open(cert_file, "rb") as f:
        cert_data = f.read()
    with open(key_file, "rb") as f:
        key_data = f.read()
    try:
        cert = x509.load_pem_x509_certificate(cert_data)
    except ValueError:
        raise TLSError(f"{cert_file} is not a PEM encoded certificate") from None
    try:
        key = serialization.load_pem_private_key(key_data, password=None)
    except (ValueError, TypeError):
        raise TLSError(f"{key_file} is not a PEM encoded private key") from None
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise TLSError(f"CA key {key_file} does not match CA certificate {cert_file}")
    return cert, key


def create_cert(ca_cert, ca_key, name: str, dns: list[str], ips: list,  # type: ignore[no-untyped-def]
                days: int = 365, server_auth: bool = True) -> tuple[bytes, bytes]:
    """A certificate for ``name`` signed by the CA: (certificate PEM, key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = _new_key()
    not_before, not_after = _validity(days)
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server_auth else []) + \
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(d) for d in dict.fromkeys(dns)]
                + [x509.IPAddress(ip) for ip in dict.fromkeys(ips)]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)
