"""``nomad fmt``: rewrite job and agent configuration files in canonical HCL layout.

Behaves like Nomad v1.6.5's command/fmt.go: paths default to ``.``; a directory
means its ``.nomad``/``.hcl`` files (subdirectories with ``-recursive``); ``-``
reads stdin and prints the result; ``-list`` (default on) prints the name of every
file that changed; ``-write`` (default on) rewrites them; ``-check`` writes nothing
and exits 1 when some file is not canonical. Files with syntax errors are reported
and left alone (exit 1).
"""

from __future__ import annotations

import os
import sys

from pynomad.cli.meta import Meta

HELP = {"fmt": """
Usage: nomad fmt [flags] paths ...

  Formats Nomad agent configuration and job file to a canonical format.
  If a path is a directory, it will recursively format all files
  with .nomad and .hcl extensions in the directory.

  If you provide a single dash (-) as argument, fmt will read from standard
  input (STDIN) and output the processed output to standard output (STDOUT).

Format Options:

  -check
	Check if the files are valid HCL files. If not, exit status of the
	command will be 1 and the incorrect files will not be formatted. This
    flag overrides any -write flag value.

  -list
	List the files which contain formatting inconsistencies. Defaults
	to -list=true.

  -recursive
	Process files in subdirectories. By default only the given (or current)
	directory is processed.

  -write
	Overwrite the input files. Defaults to -write=true. Ignored if the input
    comes from STDIN.
"""}

STDIN_PATH = "<stdin>"
FLAGS = {"check": "bool", "write": "bool", "list": "bool", "recursive": "bool"}


class _Run:
    """State of one ``nomad fmt`` invocation."""

    def __init__(self, meta: Meta, opts: dict, paths: list[str]) -> None:
        self.ui = meta.ui
        self.check, self.write, self.list = opts["check"], opts["write"], opts["list"]
        self.recursive = opts["recursive"]
        self.stdout = False
        self.paths = paths or ["."]
        if paths[:1] == ["-"]:
            self.paths, self.stdout, self.write, self.list = [], True, False, False
        if self.check:
            self.write = False
        if not self.list and not self.write:
            self.stdout = True
        self.errors: list[str] = []
        self.syntax_errors = False
        self.unformatted = False

    def run(self) -> int:
        if not self.paths:
            self.process(STDIN_PATH, sys.stdin.read())
        for path in self.paths:
            self.process_path(path)
        if self.errors:
            self.ui.error(_multierror(self.errors))
            self.ui.error("For additional help try 'nomad fmt -help'")
        if self.errors or self.syntax_errors or (self.check and self.unformatted):
            return 1
        return 0

    def process_path(self, path: str) -> None:
        if not os.path.exists(path):
            self.errors.append(f"No file or directory at {path}")
        elif os.path.isdir(path):
            self.process_dir(path)
        elif is_nomad_file(path):
            self.process_file(path)
        else:
            self.errors.append("Only .nomad and .hcl files can be processed using nomad fmt")

    def process_dir(self, path: str) -> None:
        try:
            names = sorted(os.listdir(path))
        except OSError:
            self.errors.append(f"Failed to list directory {path}")
            return
        for name in names:
            sub = os.path.normpath(os.path.join(path, name))
            if os.path.isdir(sub):
                if self.recursive:
                    self.process_dir(sub)
            elif is_nomad_file(sub):
                self.process_file(sub)

    def process_file(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as fh:
                src = fh.read()
        except (OSError, UnicodeDecodeError) as err:
            self.errors.append(f"Failed to read file {path}: {err}")
            return
        self.process(path, src)

    def process(self, path: str, src: str) -> None:
        out = self.format(path, src)
        if out is None:
            return
        if out != src:
            if self.list:
                self.ui.output(path)
            self.unformatted = True
            if self.write:
                try:
                    with open(path, "w", encoding="utf-8") as fh:
                        fh.write(out)
                except OSError as err:
                    self.errors.append(f"Failed to write file {path}: {err}")
                    return
        if self.stdout:
            self.ui.output(out)

    def format(self, path: str, src: str) -> str | None:
        """Check the syntax, then format; None (after reporting) on bad syntax."""
        from pynomad.jobspec.diagnostics import JobspecError
        from pynomad.jobspec.hclfmt import FormatError, format_hcl
        from pynomad.jobspec.syntax import parse_body

        try:
            parse_body(src, path)
            return format_hcl(src)
        except JobspecError as err:
            for diag in err.diagnostics:
                self.ui.error(f"Error: {diag}")
        except FormatError as err:
            self.ui.error(f"Error: {path}: {err}")
        self.syntax_errors = True
        return None


def is_nomad_file(path: str) -> bool:
    """Only ``.nomad`` and ``.hcl`` files are formatted (``job.nomad.hcl`` included)."""
    return os.path.isfile(path) and os.path.splitext(path)[1] in (".nomad", ".hcl")


def _multierror(errors: list[str]) -> str:
    from pynomad.structs.validate_util import multierror

    return multierror(errors).rstrip("\n")


def run(meta: Meta, args: list[str]) -> int:
    """``nomad fmt [flags] paths ...``."""
    opts, paths = meta.parse(args, dict(FLAGS), initial={"write": True, "list": True})
    return _Run(meta, opts, paths).run()
