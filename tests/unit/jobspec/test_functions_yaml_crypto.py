"""yamlencode, yamldecode, bcrypt and rsadecrypt (Nomad 1.6.5 docs examples)."""

from __future__ import annotations

import base64
import json

import bcrypt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pynomad.jobspec import JobspecError, parse_job
from pynomad.jobspec.functions_yaml import yaml_decode, yaml_encode


def value(expr: str, **kw):
    src = f'locals {{\n  v = {expr}\n}}\njob "j" {{\n meta = {{ v = jsonencode(local.v) }}\n}}\n'
    return json.loads(parse_job(src, "test.nomad.hcl", env={}, **kw)["Meta"]["v"])


def error(expr: str) -> str:
    with pytest.raises(JobspecError) as info:
        value(expr)
    return str(info.value)


# ---------------------------------------------------------------- yamlencode


@pytest.mark.parametrize("expr, want", [
    ('{"a":"b", "c":"d"}', '"a": "b"\n"c": "d"\n'),
    ('{"foo":[1, 2, 3], "bar": "baz"}', '"bar": "baz"\n"foo":\n- 1\n- 2\n- 3\n'),
    ('{"foo":[1, {"a":"b","c":"d"}, 3], "bar": "baz"}',
     '"bar": "baz"\n"foo":\n- 1\n- "a": "b"\n  "c": "d"\n- 3\n'),
])
def test_yamlencode_doc_examples(expr: str, want: str) -> None:
    assert value(f"yamlencode({expr})") == want


@pytest.mark.parametrize("v, want", [
    (True, "true\n...\n"), (0, "0\n...\n"), (None, "null\n...\n"), (1.5, "1.5\n...\n"),
    (float("inf"), "+Inf\n...\n"), (float("-inf"), "-Inf\n...\n"),
    ("", '""\n'), ("hello", '"hello"\n'), ("true", '"true"\n'), ("hello\nworld", "|-\n  hello\n  world\n"),
    ("a\n", "|\n  a\n"), ("a\n\n", "|+\n  a\n\n"), (" a\nb", "|2-\n   a\n  b\n"),
    ("tab\there\n", '"tab\\there\\n"\n'), ("trailing \nspace", '"trailing \\nspace"\n'),
    ("caf\u00e9 \u2603", '"caf\u00e9 \u2603"\n'), ("\U0001F600", '"\\U0001F600"\n'), ("\x7f", '"\\x7F"\n'),
    ({}, "{}\n"), ([], "[]\n"), (["b"], '- "b"\n'),
    ({"a": {"b": [[1, 2], []], "c": "x\ny"}}, '"a":\n  "b":\n  - - 1\n    - 2\n  - []\n  "c": |-\n    x\n    y\n'),
    ([{"a": [{"b": {}}]}], '- "a":\n  - "b": {}\n'),
    ({"k" * 129: 1}, '? "' + "k" * 129 + '"\n: 1\n'),
    ({"multi\nline": "v"}, '? |-\n  multi\n  line\n: "v"\n'),
    ({"": 1}, '"": 1\n'),
])
def test_yamlencode_styles(v, want: str) -> None:
    assert yaml_encode(v) == want


def test_yamlencode_folds_long_quoted_lines_at_spaces() -> None:
    text = " ".join(["word"] * 30)
    got = yaml_encode({"k": text})
    first, second = got.splitlines()
    assert len(first) > 80 and second.startswith("  ")
    assert yaml_decode(got) == {"k": text}  # the fold reads back as the space it replaced


def test_yamlencode_roundtrips_through_yamldecode() -> None:
    v = {"s": "x", "n": [1, 2.5, True, None], "m": {"deep": {"list": ["a\nb", ""]}}, "e": {}}
    assert value(f"yamldecode(yamlencode({json.dumps(v)}))") == v


# ---------------------------------------------------------------- yamldecode


def test_yamldecode_doc_examples() -> None:
    assert value('yamldecode("{\\"hello\\": \\"world\\"}")') == {"hello": "world"}
    assert value('yamldecode("true")') is True
    assert value('yamldecode("{a: &foo [1, 2, 3], b: *foo}")') == {"a": [1, 2, 3], "b": [1, 2, 3]}
    assert ('Call to function "yamldecode" failed: cannot refer to anchor "foo" from inside its own '
            "definition.") in error('yamldecode("{a: &foo [1, *foo, 3]}")')
    assert 'Call to function "yamldecode" failed: unsupported tag "!not-supported".' in error(
        'yamldecode("{a: !not-supported foo}")')


@pytest.mark.parametrize("src, want", [
    ("~", None), ("---", None), ("null", None), ("", "missing start of document"),
    ("42", 42), ("-1.5", -1.5), ("1e3", 1000), (".5", 0.5), ("0x1F", 31), ("0o17", 15), ("1_000", 1000),
    ("yes", True), ("Off", False), ("'yes'", "yes"), ('"1"', "1"), ("|-\n  12\n", "12"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43-05:00"), ("2002-12-14", "2002-12-14T00:00:00Z"),
    ("2001-12-14 21:59:43.10", "2001-12-14T21:59:43Z"), ("!!binary aGVsbG8=", "aGVsbG8="),
    ("!!str 12", "12"), ("!!int '12'", "12"), ("hello world", "hello world"),
    ("a: 1\nb: [x, {c: d}]\n", {"a": 1, "b": ["x", {"c": "d"}]}),
    ("1: one\ntrue: yes\n", {"1": "one", "true": True}),
    ("base: &b {p: 1, q: 2}\nd:\n  <<: *b\n  q: 3\n", {"base": {"p": 1, "q": 2}, "d": {"p": 1, "q": 3}}),
    ("y: 1\nn: 0\n", {"true": 1, "false": 0}),  # YAML 1.1 booleans, even as keys, as go-cty-yaml does
    ("- [1, 2]\n- []\n- {}\n", [[1, 2], [], {}]),
])
def test_yamldecode_values(src: str, want) -> None:
    if isinstance(want, str) and want == "missing start of document":
        with pytest.raises(Exception, match=want):
            yaml_decode(src)
        return
    assert yaml_decode(src) == want


@pytest.mark.parametrize("src, message", [
    ("---\ntrue\n---\nfalse", "on line 2, column 1: unexpected extra content after value"),
    (".nan", "floating point NaN is not supported"),
    ("a: *missing", 'reference to undefined anchor "missing"'),
    ("? [a]\n: b\n", "only strings are allowed as mapping keys"),
    ("~: v", "mapping key cannot be null"),
    ("!!binary not*base64", "not valid base64"),
    ("!!bool maybe", 'cannot parse "maybe" as tag:yaml.org,2002:bool'),
    ("!!map [1]", "can't interpret sequence as tag:yaml.org,2002:map"),
    ("a: [", "did not find expected node content"),
])
def test_yamldecode_errors(src: str, message: str) -> None:
    with pytest.raises(Exception, match=message.replace("[", r"\[").replace("*", r"\*")):
        yaml_decode(src)


def test_yamldecode_result_is_usable_in_expressions() -> None:
    assert value('yamldecode("items: [a, b]").items[1]') == "b"


# -------------------------------------------------------------------- bcrypt


def test_bcrypt_default_cost_verifies() -> None:
    digest = value('bcrypt("hello world")')
    assert digest.startswith("$2a$10$") and len(digest) == 60
    assert bcrypt.checkpw(b"hello world", digest.encode())
    assert not bcrypt.checkpw(b"hello there", digest.encode())


def test_bcrypt_cost_and_salt() -> None:
    a, b = value('bcrypt("pw", 4)'), value('bcrypt("pw", 4)')
    assert a.startswith("$2a$04$") and a != b  # random salt each call
    assert bcrypt.checkpw(b"pw", a.encode()) and bcrypt.checkpw(b"pw", b.encode())
    assert value('bcrypt("pw", 2)').startswith("$2a$10$")  # below the minimum means the default


@pytest.mark.parametrize("expr, message", [
    ('bcrypt("pw", 32)', "cost 32 is outside allowed range (4,31)"),
    ('bcrypt("pw", 4.5)', "value must be a whole number"),
    ('bcrypt("pw", 4, 5)', "bcrypt() takes no more than two arguments"),
    (f'bcrypt("{"x" * 73}")', "password length exceeds 72 bytes"),
])
def test_bcrypt_errors(expr: str, message: str) -> None:
    assert message in error(expr)


# ---------------------------------------------------------------- rsadecrypt


@pytest.fixture(scope="module")
def keypair() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    return key, pem


def _encrypt(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(key.public_key().encrypt(text.encode(), padding.PKCS1v15())).decode()


def _rsadecrypt_expr(ciphertext: str, pem: str) -> str:
    return f'rsadecrypt("{ciphertext}", <<EOT\n{pem}\nEOT\n)'


def test_rsadecrypt_doc_example(keypair, tmp_path) -> None:
    key, pem = keypair
    (tmp_path / "privatekey.pem").write_text(pem)
    (tmp_path / "ciphertext").write_bytes(key.public_key().encrypt(b"Hello, world!", padding.PKCS1v15()))
    src = ('locals {\n  v = rsadecrypt(filebase64("ciphertext"), file("privatekey.pem"))\n}\n'
           'job "j" {\n meta = { v = local.v }\n}\n')
    job = parse_job(src, str(tmp_path / "job.nomad.hcl"), env={}, allow_fs=True)
    assert job["Meta"]["v"] == "Hello, world!"


def test_rsadecrypt_inline(keypair) -> None:
    key, pem = keypair
    assert value(_rsadecrypt_expr(_encrypt(key, "s3cr\u00e9t \u2713"), pem)) == "s3cr\u00e9t \u2713"


def test_rsadecrypt_errors(keypair) -> None:
    key, pem = keypair
    ciphertext = _encrypt(key, "x")
    assert 'failed to decode input "!!": cipher text must be base64-encoded' in error(_rsadecrypt_expr("!!", pem))
    assert "failed to parse key: no key found" in error(_rsadecrypt_expr(ciphertext, "not a key"))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()
    # the wrong key never yields the secret (an error, or random bytes under OpenSSL's
    # implicit rejection)
    try:
        assert value(_rsadecrypt_expr(ciphertext, other_pem)) != "x"
    except Exception as err:  # noqa: BLE001 - either outcome is acceptable
        assert "crypto/rsa: decryption error" in str(err)
    pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
    assert "use ParsePKCS8PrivateKey instead" in error(_rsadecrypt_expr(ciphertext, pkcs8))
    encrypted = pem.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n", 1)
    assert "password protected keys are not supported" in error(_rsadecrypt_expr(ciphertext, encrypted))
