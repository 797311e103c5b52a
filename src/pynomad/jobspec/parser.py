"""The parse pipeline: file → variables/locals → job dict (like jobspec2.Parse).

1. parse the HCL text (syntax errors stop here);
2. check the top level: only ``variable``, ``variables``, ``locals``, ``job``;
3. declare variables, collect values (env, var files, arguments), validate;
4. evaluate locals;
5. decode and normalize the ``job`` block.
"""

from __future__ import annotations

import os
from typing import Any

from . import nodes as n
from .decode import check_label_count, suggest
from .diagnostics import Diags, JobspecError
from .evaluate import Scope
from .functions_extra import make_functions
from .jobdecode import decode_job, make_decoder
from .syntax import parse_body
from . import variables as v

_TOP = {"variables": 0, "variable": 1, "locals": 0, "job": 1}


def parse(src: str, filename: str, variables: dict[str, str] | None, var_files: list[str] | None,
          env: dict[str, str] | None, strict: bool, allow_fs: bool) -> dict[str, Any]:
    if not isinstance(src, str):
        raise JobspecError("job file content must be text")
    body = parse_body(src, filename)
    diags = Diags()
    _check_top(body, diags)
    diags.raise_if_any()

    var_texts = _read_var_files(var_files or [], diags)
    diags.raise_if_any()

    basedir = os.path.dirname(filename) if filename and not filename.startswith("<") else "."
    functions = make_functions(basedir or ".", allow_fs)
    declared: dict[str, v.Variable] = {}
    for block in body.blocks:
        if block.type == "variable":
            v.declare_block(block, declared, diags)
        elif block.type == "variables":
            _check_just_attributes(block.body, diags)
            for attr in block.body.attributes:
                v.declare_attr(attr, declared, diags)
    v.collect_env(declared, dict(os.environ if env is None else env), diags)
    for path, text in var_texts:
        v.collect_var_file(declared, path, text, strict, diags)
    v.collect_args(declared, dict(variables or {}), strict, diags)
    values = v.final_values(declared, functions, diags)

    local_attrs = _local_attributes(body, diags)

    def scope_for(local_values: dict[str, Any]) -> Scope:
        return Scope({"var": values, "local": local_values}, functions, src, literal_undefined=True)

    locals_ = v.evaluate_locals(local_attrs, scope_for, diags)
    diags.raise_if_any()

    jobs = [b for b in body.blocks if b.type == "job"]
    if not jobs:
        raise JobspecError("Missing job block; A job block is required")
    for extra in jobs[1:]:
        diags.error("Duplicate job block",
                    f'Only one block of type "job" is allowed. Previous definition was at {jobs[0].def_rng}.',
                    extra.def_rng)
    decoder = make_decoder(diags)
    job = decode_job(decoder, jobs[0], scope_for(locals_))
    diags.raise_if_any()
    return job


def _check_top(body: n.Body, diags: Diags) -> None:
    for attr in body.attributes:
        diags.error("Unsupported argument", f'An argument named "{attr.name}" is not expected here.', attr.name_rng)
    for block in body.blocks:
        if block.type not in _TOP:
            diags.error("Unsupported block type",
                        f'Blocks of type "{block.type}" are not expected here.' + suggest(block.type, list(_TOP)),
                        block.type_rng)
            continue
        check_label_count(block, _TOP[block.type], diags)


def _check_just_attributes(body: n.Body, diags: Diags) -> None:
    for b in body.blocks:
        diags.error("Unexpected block", f'Blocks are not allowed here; "{b.type}" is a block.', b.type_rng)


def _local_attributes(body: n.Body, diags: Diags) -> list[n.Attribute]:
    out: list[n.Attribute] = []
    seen: set[str] = set()
    for block in body.blocks:
        if block.type != "locals":
            continue
        _check_just_attributes(block.body, diags)
        for attr in block.body.attributes:
            if attr.name in seen:
                diags.error("Duplicate value in locals", f"Duplicate {attr.name} definition found.", attr.name_rng)
                continue
            seen.add(attr.name)
            out.append(attr)
    return out


def _read_var_files(paths: list[str], diags: Diags) -> list[tuple[str, str]]:
    out = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                out.append((path, fh.read()))
        except (OSError, UnicodeDecodeError) as err:
            diags.error("Failed to read file", f'unable to parse var file: failed to read "{path}": {err}')
    return out
