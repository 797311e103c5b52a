"""HCL2 job files → the uncanonicalized API job, as Nomad's jobspec2 does.

``parse_job`` returns the Job as a plain dict shaped exactly like the output of
``nomad job run -output`` (API field names, nulls for unset pointer fields,
durations in integer nanoseconds). Nothing is canonicalized: defaults that
the server fills in later are left null.

Modules: :mod:`syntax` (python-hcl2's Lark grammar → :mod:`nodes` tree),
:mod:`heredoc` (templates), :mod:`evaluate` + :mod:`functions` (expressions),
:mod:`variables` (``variable``/``locals``), :mod:`schema` + :mod:`decode` +
:mod:`jobdecode` (blocks → API JSON), :mod:`parser` (the pipeline).
"""

from __future__ import annotations

from typing import Any

from .diagnostics import Diagnostic, JobspecError

__all__ = ["JobspecError", "Diagnostic", "parse_job", "parse_job_file"]


def parse_job(src: str, filename: str = "<input>", variables: dict[str, str] | None = None,
              var_files: list[str] | None = None, env: dict[str, str] | None = None,
              strict: bool = True, *, allow_fs: bool = True) -> dict:
    """Parse HCL2 job text; return the Job dict (not wrapped in {"Job": ...}).

    ``variables`` are ``-var`` style string values, ``var_files`` paths of HCL or
    JSON variable files, ``env`` the environment for ``NOMAD_VAR_<name>``
    (default ``os.environ``). ``strict`` makes values for undeclared variables
    an error. ``allow_fs`` enables ``file()`` and friends (the CLI allows them,
    the HTTP parse endpoint does not). Raises :class:`JobspecError`.
    """
    from .parser import parse

    try:
        return parse(src, filename, variables, var_files, env, strict, allow_fs)
    except JobspecError:
        raise
    except RecursionError:
        raise JobspecError(f"{filename}: job file is nested too deeply") from None


def parse_job_file(path: str, **kw: Any) -> dict:
    """Read and parse a job file; relative ``file()`` paths resolve next to it."""
    try:
        with open(path, encoding="utf-8") as fh:
            src = fh.read()
    except (OSError, UnicodeDecodeError) as err:
        raise JobspecError(f"Error reading job file {path}: {err}") from None
    kw.setdefault("filename", path)
    return parse_job(src, **kw)
