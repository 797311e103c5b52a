"""consul-template's functions for the template hook (Nomad's template language).

`funcs(env, vars)` builds the function map: the common helpers (strings, JSON/YAML,
encodings, hashes, math with consul-template's argument order so `{{ 5 | subtract 2 }}`
is 3, `loop`, `timestamp`, a set of `sprig_*`), `env`, Nomad variables through a
`VarSource`, and Nomad native services (`nomadService`, `nomadServices`) through its
optional `services(name)` method. Consul and Vault lookups are not available: calling
them fails the render with an error naming the function.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from typing import Any, Callable, Protocol

import yaml

from ..helper.goformat import format_go_time
from .gofmt import MISSING, sorted_keys, sprint_value
from .gotemplate import GoTemplateError, RenderBlocked, truth


class VarSource(Protocol):
    """Nomad variables as the task sees them (blocking is the caller's business).

    A source may also have `services(name) -> list[dict]`: the registrations of service
    `name` in the task's namespace (ServiceRegistration.to_dict() dicts), or for `""` the
    namespace's services as [{ServiceName, Tags}]. Without it `nomadService` and
    `nomadServices` fail the render."""

    def read(self, path: str) -> dict | None: ...   # Variable.to_dict() or None
    def list(self, prefix: str) -> list[dict]: ...  # Variable.metadata() dicts


class MissingVariable(RenderBlocked):
    """`nomadVar` of a path that does not exist (Nomad blocks until it does)."""

    def __init__(self, path: str):
        super().__init__(f"nomad variable {path!r} not found or not readable by this task")
        self.path = path


# -- Nomad variable values (consul-template's NomadVarItems & co) ------------------------
class NanoTime(int):
    go_methods = ("Time", "Unix", "UnixNano")

    def go_string(self) -> str:      # Go's time.Time String() in UTC
        return format_go_time(int(self))

    def Time(self) -> "NanoTime":  # noqa: N802 - Go method names
        return self

    def Unix(self) -> int:  # noqa: N802
        return int(self) // 1_000_000_000

    def UnixNano(self) -> int:  # noqa: N802
        return int(self)


class VarMeta:
    """NomadVarMeta: prints as its Path."""

    go_fields = ("Namespace", "Path", "CreateIndex", "ModifyIndex", "CreateTime", "ModifyTime")

    def __init__(self, d: dict):
        self.Namespace = d.get("Namespace", "")
        self.Path = d.get("Path", "")
        self.CreateIndex = int(d.get("CreateIndex") or 0)
        self.ModifyIndex = int(d.get("ModifyIndex") or 0)
        self.CreateTime = NanoTime(d.get("CreateTime") or 0)
        self.ModifyTime = NanoTime(d.get("ModifyTime") or 0)

    def go_string(self) -> str:
        return self.Path

    def go_type(self) -> str:
        return "*nomad.NomadVarMeta"


class VarItem(str):
    """One item: a string (its value) with `.Key` and `.Value`."""

    go_fields = ("Key", "Value")

    def __new__(cls, key: str, value: str) -> "VarItem":
        obj = super().__new__(cls, value)
        obj.Key, obj.Value = key, value
        return obj


class VarTuple:
    go_fields = ("K", "V")

    def __init__(self, k: str, v: VarItem):
        self.K, self.V = k, v


class VarParent:
    go_fields = ("Items", "Metadata")

    def __init__(self, items: "VarItems", meta: VarMeta):
        self.Items, self.Metadata = items, meta


class VarItems(dict):
    """NomadVarItems: key → item, plus the Keys/Values/Tuples/Metadata/Parent methods."""

    go_methods = ("Keys", "Values", "Tuples", "Metadata", "Parent", "Items")

    def __init__(self, var: dict):
        super().__init__({k: VarItem(k, v) for k, v in (var.get("Items") or {}).items()})
        self._meta = VarMeta(var)

    def Keys(self) -> list[str]:  # noqa: N802
        return sorted(self)

    def Values(self) -> list[VarItem]:  # noqa: N802
        return [self[k] for k in sorted(self)]

    def Tuples(self) -> list[VarTuple]:  # noqa: N802
        return [VarTuple(k, self[k]) for k in sorted(self)]

    def Metadata(self) -> VarMeta:  # noqa: N802
        return self._meta

    def Parent(self) -> VarParent:  # noqa: N802
        return VarParent(self, self._meta)

    def Items(self) -> Any:  # noqa: N802 - `.Items` as a convenience (a key wins)
        return self["Items"] if "Items" in self else self

    def go_type(self) -> str:
        return "nomad.NomadVarItems"


def _strip_ns(path: str) -> str:
    return path.split("@", 1)[0]


def var_funcs(source: VarSource | None) -> dict[str, Callable[..., Any]]:
    def need() -> VarSource:
        if source is None:
            raise GoTemplateError("nomad variables are not available to this template")
        return source

    def nomad_var(path: str) -> VarItems:
        var = need().read(_strip_ns(path))
        if var is None:
            raise MissingVariable(_strip_ns(path))
        return VarItems(var)

    def nomad_var_exists(path: str) -> bool:
        return need().read(_strip_ns(path)) is not None

    def nomad_var_list(prefix: str = "") -> list[VarMeta]:
        return [VarMeta(m) for m in sorted(need().list(_strip_ns(prefix)),
                                           key=lambda m: m.get("Path", ""))]

    def nomad_var_list_safe(prefix: str = "") -> list[VarMeta]:
        out = nomad_var_list(prefix)
        if not out:
            raise MissingVariable(_strip_ns(prefix) + "*")
        return out

    return {"nomadVar": nomad_var, "nomadVarExists": nomad_var_exists,
            "nomadVarList": nomad_var_list, "nomadVarListSafe": nomad_var_list_safe}


# -- Nomad native services (consul-template's NomadService & co) --------------------------
class ServiceTags(list):
    """consul-template's ServiceTags: a list of strings with `.Contains`."""

    go_methods = ("Contains",)

    def Contains(self, tag: str) -> bool:  # noqa: N802 - Go method name
        return tag in self

    def go_type(self) -> str:
        return "dependency.ServiceTags"


class NomadService:
    """One registration as a template sees it: consul-template's NomadService fields
    (`Name`, `Node`) plus Nomad's ServiceRegistration names (`ServiceName`, `NodeID`,
    `Namespace`)."""

    go_fields = ("ID", "Name", "ServiceName", "Node", "NodeID", "Address", "Port",
                 "Datacenter", "Tags", "JobID", "AllocID", "Namespace")

    def __init__(self, d: dict):
        self.ID = d.get("ID", "")
        self.Name = self.ServiceName = d.get("ServiceName", "")
        self.Node = self.NodeID = d.get("NodeID", "")
        self.Address = d.get("Address", "")
        self.Port = int(d.get("Port") or 0)
        self.Datacenter = d.get("Datacenter", "")
        self.Tags = ServiceTags(sorted(d.get("Tags") or ()))
        self.JobID = d.get("JobID", "")
        self.AllocID = d.get("AllocID", "")
        self.Namespace = d.get("Namespace", "")

    def go_string(self) -> str:      # Go's %v of the *NomadService
        return "&{" + " ".join([self.ID, self.Name, self.Node, self.Address, str(self.Port),
                                self.Datacenter, sprint_value(list(self.Tags), False),
                                self.JobID, self.AllocID]) + "}"

    def go_type(self) -> str:
        return "*dependency.NomadService"


class NomadServicesSnippet:
    """One entry of `nomadServices`: a service name and the union of its tags."""

    go_fields = ("Name", "Tags")

    def __init__(self, d: dict):
        self.Name = d.get("ServiceName") or d.get("Name") or ""
        self.Tags = ServiceTags(sorted(d.get("Tags") or ()))

    def go_string(self) -> str:
        return "&{" + self.Name + " " + sprint_value(list(self.Tags), False) + "}"

    def go_type(self) -> str:
        return "*dependency.NomadServicesSnippet"


# consul-template's NomadServiceQueryRe: `[tag.]name[@region]` (a name has no dots, so the
# tag is everything before the last dot).
_SERVICE_QUERY = re.compile(r"\A(?:(?P<tag>[\w=:.\-]+)\.)?(?P<name>[\w\-]+)"
                            r"(?:@(?P<region>[\w.\-]+))?\Z")


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def service_hash_with(reg: dict, key: str) -> str:
    """Nomad's ServiceRegistration.HashWith: md5 over the port (uvarint), alloc ID, ID,
    namespace, address, name, tags and the requester's key, in hex."""
    h = hashlib.md5()  # noqa: S324 - as Nomad
    h.update(_uvarint(int(reg.get("Port") or 0)))
    for f in ("AllocID", "ID", "Namespace", "Address", "ServiceName"):
        h.update(str(reg.get(f) or "").encode())
    for tag in reg.get("Tags") or ():
        h.update(str(tag).encode())
    h.update(key.encode())
    return h.hexdigest()


def choose_services(regs: list[dict], count: int, key: str) -> list[dict]:
    """Rendezvous hashing (Nomad's `choose=<count>|<key>`): the `count` registrations
    with the lowest HashWith(key), stable for a key as instances come and go."""
    if count < 0 or not key:
        raise GoTemplateError(f"nomadService: invalid choose parameter {count}|{key}")
    ranked = sorted(regs, key=lambda r: service_hash_with(r, key))   # stable, like Go
    return ranked[:count]


def service_funcs(source: Any) -> dict[str, Callable[..., Any]]:
    def fetch(name: str) -> list[dict]:
        services = getattr(source, "services", None)
        if services is None:
            raise GoTemplateError("nomad service discovery is not available to this template")
        return list(services(name) or ())

    def nomad_service(*args: Any) -> list[NomadService]:
        if len(args) == 1:
            query, choose = args[0], None
        elif len(args) == 3:
            try:
                count = int(args[0]) if not isinstance(args[0], bool) else None
            except (TypeError, ValueError):
                count = None
            if count is None:
                raise GoTemplateError(f"nomadService: invalid count {args[0]!r}")
            query, choose = args[2], (count, _s(args[1]))
        else:
            raise GoTemplateError("nomadService: expected 1 or 3 arguments, got "
                                  f"{len(args)}")
        m = _SERVICE_QUERY.match(_s(query))
        if m is None:
            raise GoTemplateError(f"nomad.service: invalid format: {_s(query)!r}")
        # A service without registrations is an empty list here (no waiting); the
        # render is not repeated when registrations change later.
        regs = fetch(m["name"])
        if m["tag"]:
            regs = [r for r in regs if m["tag"] in (r.get("Tags") or ())]
        if choose is not None:
            regs = choose_services(regs, *choose)
        return [NomadService(r) for r in regs]

    def nomad_services(*_: Any) -> list[NomadServicesSnippet]:
        return [NomadServicesSnippet(d) for d in
                sorted(fetch(""), key=lambda d: d.get("ServiceName") or d.get("Name") or "")]

    return {"nomadService": nomad_service, "nomadServices": nomad_services}


# -- helpers ---------------------------------------------------------------------------
def _s(v: Any) -> str:
    return v if isinstance(v, str) else sprint_value(v, False)


def _num(v: Any) -> int | float:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise GoTemplateError(f"unknown type for {v!r}")
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            return float(v)
    return v


def _math(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def fn(b: Any, a: Any) -> Any:     # consul-template: the piped value is `a`
        x, y = _num(a), _num(b)
        return op(x, y)
    return fn


def _divide(x: Any, y: Any) -> Any:
    if y == 0:
        raise GoTemplateError("division by zero")
    if isinstance(x, int) and isinstance(y, int):
        q = abs(x) // abs(y)
        return q if (x >= 0) == (y >= 0) else -q       # Go truncates toward zero
    return x / y


def _modulo(x: Any, y: Any) -> Any:
    if y == 0:
        raise GoTemplateError("division by zero")
    if not (isinstance(x, int) and isinstance(y, int)):
        raise GoTemplateError("modulo requires integers")
    r = abs(x) % abs(y)
    return r if x >= 0 else -r


def _contains_in(lst: Any, v: Any) -> bool:
    if isinstance(lst, str):
        return _s(v) in lst
    if isinstance(lst, dict):
        return v in lst
    if isinstance(lst, (list, tuple)):
        return any(x == v for x in lst)
    if lst is None or lst is MISSING:
        return False
    raise GoTemplateError(f"cannot check membership in {lst!r}")


def _to_go_json(v: Any) -> Any:
    if isinstance(v, dict):
        return {_s(k): _to_go_json(v[k]) for k in sorted_keys(v)}
    if isinstance(v, (list, tuple)):
        return [_to_go_json(x) for x in v]
    if hasattr(v, "go_fields"):
        return {f: _to_go_json(getattr(v, f)) for f in v.go_fields}
    if v is MISSING:
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return int(v)
    return v


def _go_html_safe(s: str) -> str:
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def to_json(v: Any) -> str:
    return _go_html_safe(json.dumps(_to_go_json(v), separators=(",", ":"), sort_keys=True,
                                    ensure_ascii=False))


def to_json_pretty(v: Any) -> str:
    return _go_html_safe(json.dumps(_to_go_json(v), indent=2, sort_keys=True,
                                    ensure_ascii=False))


def to_yaml(v: Any) -> str:
    return yaml.safe_dump(_to_go_json(v), default_flow_style=False, sort_keys=True).rstrip("\n")


def parse_json(s: str) -> Any:
    if not s:
        return {}
    return json.loads(s, parse_int=float)       # Go decodes JSON numbers to float64


def _loop(*args: Any) -> list[int]:
    if len(args) == 1:
        return list(range(int(args[0])))
    if len(args) == 2:
        return list(range(int(args[0]), int(args[1])))
    raise GoTemplateError(f"loop: wrong number of arguments, expected 1 or 2, but got {len(args)}")


_GO_LAYOUT = [("2006", "%Y"), ("01", "%m"), ("02", "%d"), ("15", "%H"), ("04", "%M"),
              ("05", "%S"), ("Jan", "%b"), ("Mon", "%a"), ("MST", "UTC"), ("-0700", "+0000"),
              ("Z07:00", "Z")]


def timestamp(layout: str = "") -> str:
    now = time.time()
    if layout == "unix":
        return str(int(now))
    if not layout:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    fmt = layout
    for go, py in _GO_LAYOUT:
        fmt = fmt.replace(go, py)
    return time.strftime(fmt, time.gmtime(now))


def _title(s: str) -> str:
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), s)


def _unconfigured(name: str, system: str) -> Callable[..., Any]:
    def fn(*_: Any) -> Any:
        raise GoTemplateError(f"{system} is not configured: function \"{name}\" is "
                              "unsupported by this client")
    return fn


CONSUL_FUNCS = ("key", "keyExists", "keyOrDefault", "ls", "safeLs", "tree", "safeTree",
                "service", "services", "connect", "caRoots", "caLeaf", "node", "nodes",
                "datacenters", "checks", "key_or_default", "key_exists")
VAULT_FUNCS = ("secret", "secrets", "pkiCert", "vault")


def _sprig() -> dict[str, Callable[..., Any]]:
    def default(d: Any, v: Any = None) -> Any:
        return v if truth(v) else d
    return {
        "sprig_upper": lambda s: _s(s).upper(), "sprig_lower": lambda s: _s(s).lower(),
        "sprig_trim": lambda s: _s(s).strip(), "sprig_title": lambda s: _title(_s(s)),
        "sprig_trimPrefix": lambda p, s: s[len(p):] if s.startswith(p) else s,
        "sprig_trimSuffix": lambda p, s: s[:-len(p)] if p and s.endswith(p) else s,
        "sprig_replace": lambda old, new, s: s.replace(old, new),
        "sprig_contains": lambda sub, s: sub in s,
        "sprig_hasPrefix": lambda p, s: s.startswith(p),
        "sprig_hasSuffix": lambda p, s: s.endswith(p),
        "sprig_repeat": lambda n, s: s * int(n), "sprig_quote": lambda *a: " ".join(
            json.dumps(_s(x)) for x in a if x is not None),
        "sprig_squote": lambda *a: " ".join(f"'{_s(x)}'" for x in a if x is not None),
        "sprig_default": default, "sprig_empty": lambda v: not truth(v),
        "sprig_coalesce": lambda *a: next((x for x in a if truth(x)), None),
        "sprig_ternary": lambda t, f, c: t if c else f,
        "sprig_list": lambda *a: list(a), "sprig_dict": lambda *a: {
            _s(a[i]): (a[i + 1] if i + 1 < len(a) else "") for i in range(0, len(a), 2)},
        "sprig_keys": lambda *ds: sorted(k for d in ds for k in d),
        "sprig_first": lambda l: l[0] if l else None,
        "sprig_last": lambda l: l[-1] if l else None,
        "sprig_join": lambda sep, l: sep.join(_s(x) for x in l),
        "sprig_splitList": lambda sep, s: s.split(sep),
        "sprig_toString": _s, "sprig_atoi": lambda s: int(s) if s.strip().lstrip("-").isdigit() else 0,
        "sprig_int": lambda v: int(float(v)) if v not in (None, "") else 0,
        "sprig_add": lambda *a: sum(int(_num(x)) for x in a),
        "sprig_sub": lambda a, b: int(_num(a)) - int(_num(b)),
        "sprig_mul": lambda *a: __import__("math").prod(int(_num(x)) for x in a),
        "sprig_div": lambda a, b: _divide(int(_num(a)), int(_num(b))),
        "sprig_mod": lambda a, b: _modulo(int(_num(a)), int(_num(b))),
        "sprig_max": lambda *a: max(int(_num(x)) for x in a),
        "sprig_min": lambda *a: min(int(_num(x)) for x in a),
        "sprig_b64enc": lambda s: base64.b64encode(_s(s).encode()).decode(),
        "sprig_b64dec": lambda s: base64.b64decode(_s(s)).decode(errors="replace"),
        "sprig_sha256sum": lambda s: hashlib.sha256(_s(s).encode()).hexdigest(),
        "sprig_indent": lambda n, s: "\n".join(" " * int(n) + ln for ln in s.split("\n")),
        "sprig_nindent": lambda n, s: "\n" + "\n".join(" " * int(n) + ln for ln in s.split("\n")),
        "sprig_now": lambda: timestamp(),
    }


def funcs(env: dict[str, str], vars: VarSource | None = None) -> dict[str, Callable[..., Any]]:
    """The function map of a task's templates."""
    out: dict[str, Callable[..., Any]] = {
        "env": lambda name: env.get(name, ""),
        "envOrDefault": lambda name, d: env.get(name) or d,
        "toUpper": lambda s: _s(s).upper(), "toLower": lambda s: _s(s).lower(),
        "toTitle": lambda s: _title(_s(s)), "title": lambda s: _title(_s(s)),
        "trimSpace": lambda s: _s(s).strip(" \t\n\r\v\f"),
        "split": lambda sep, s: _s(s).split(sep) if sep else list(_s(s)),
        "join": lambda sep, l: sep.join(_s(x) for x in l),
        "replaceAll": lambda f, t, s: _s(s).replace(f, t),
        "regexReplaceAll": lambda r, repl, s: re.sub(r, re.sub(r"\$\{?(\d+)\}?", r"\\\1", repl), s),
        "regexMatch": lambda r, s: re.search(r, s) is not None,
        "contains": lambda v, l: _contains_in(l, v), "in": _contains_in,
        "containsAll": lambda vs, l: all(_contains_in(l, v) for v in vs),
        "containsAny": lambda vs, l: any(_contains_in(l, v) for v in vs),
        "containsNone": lambda vs, l: not any(_contains_in(l, v) for v in vs),
        "hasPrefix": lambda p, s: _s(s).startswith(p), "hasSuffix": lambda p, s: _s(s).endswith(p),
        "trimPrefix": lambda p, s: s[len(p):] if s.startswith(p) else s,
        "trimSuffix": lambda p, s: s[:-len(p)] if p and s.endswith(p) else s,
        "parseJSON": parse_json, "toJSON": to_json, "toJSONPretty": to_json_pretty,
        "toYAML": to_yaml, "parseYAML": lambda s: yaml.safe_load(s) if s else {},
        "parseBool": lambda s: {"1": True, "t": True, "true": True, "True": True, "TRUE": True,
                                "0": False, "f": False, "false": False, "False": False,
                                "FALSE": False}[s],
        "parseInt": lambda s: int(s, 0) if s else 0, "parseFloat": float,
        "parseUint": lambda s: int(s, 0) if s else 0,
        "base64Encode": lambda s: base64.b64encode(_s(s).encode()).decode(),
        "base64Decode": lambda s: base64.b64decode(_s(s)).decode(errors="replace"),
        "base64URLEncode": lambda s: base64.urlsafe_b64encode(_s(s).encode()).decode(),
        "base64URLDecode": lambda s: base64.urlsafe_b64decode(_s(s)).decode(errors="replace"),
        "sha256Hex": lambda s: hashlib.sha256(_s(s).encode()).hexdigest(),
        "md5sum": lambda s: hashlib.md5(_s(s).encode()).hexdigest(),  # noqa: S324 - as Go
        "loop": _loop, "timestamp": timestamp,
        "add": _math(lambda x, y: x + y), "subtract": _math(lambda x, y: x - y),
        "multiply": _math(lambda x, y: x * y), "divide": _math(_divide),
        "modulo": _math(_modulo), "minimum": _math(min), "maximum": _math(max),
    }
    out.update(_sprig())
    for name in CONSUL_FUNCS:
        out[name] = _unconfigured(name, "consul")
    for name in VAULT_FUNCS:
        out[name] = _unconfigured(name, "vault")
    out.update(var_funcs(vars))
    out.update(service_funcs(vars))
    return out
