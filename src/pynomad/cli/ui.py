"""Terminal output for the CLI, modelled on mitchellh/cli's ``BasicUi``/``ColoredUi``.

``output`` goes to stdout, ``error``/``warn`` to stderr. When colour is enabled
(stdout is a terminal and neither ``-no-color`` nor ``NOMAD_CLI_NO_COLOR`` is
set, or ``-force-color``/``NOMAD_CLI_FORCE_COLOR`` is given) errors are red,
warnings yellow, and ``[bold]``-style markup in messages is rendered.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TextIO

_CODES = {
    "reset": "\x1b[0m",
    "bold": "\x1b[1m",
    "red": "\x1b[31m",
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "blue": "\x1b[34m",
    "cyan": "\x1b[36m",
    "light_yellow": "\x1b[93m",
    "underline": "\x1b[4m",
}
_MARKUP = re.compile(r"\[(reset|bold|red|green|yellow|blue|cyan|light_yellow|underline)\]")


class Ui:
    """Writes command output; ``prefix_*`` attributes mimic cli.PrefixedUi."""

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None,
                 color: bool | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.color = _detect_color(self.stdout) if color is None else color
        self.info_prefix = ""
        self.output_prefix = ""
        self.error_prefix = ""

    def colorize(self, text: str) -> str:
        """Render (or strip) ``[bold]``/``[reset]``/colour markup, ending with a reset."""
        if not self.color:
            return _MARKUP.sub("", text)
        return _MARKUP.sub(lambda m: _CODES[m.group(1)], text) + _CODES["reset"]

    def output(self, message: str = "") -> None:
        if message and self.output_prefix:
            message = self.output_prefix + message
        self._write(self.stdout, message)

    def info(self, message: str) -> None:
        if message and self.info_prefix:
            message = self.info_prefix + message
        self._write(self.stdout, message)

    def error(self, message: str) -> None:
        if message and self.error_prefix:
            message = self.error_prefix + message
        if self.color:
            message = _CODES["red"] + message + _CODES["reset"]
        self._write(self.stderr, message)

    def warn(self, message: str) -> None:
        if self.color:
            message = _CODES["yellow"] + message + _CODES["reset"]
        self._write(self.stderr, message)

    def ask(self, question: str) -> str:
        """Print ``question`` and read one line from stdin."""
        self.stdout.write(question + " ")
        self.stdout.flush()
        line = sys.stdin.readline()
        return line.rstrip("\r\n")

    def prefixed(self, info: str, output: str, error: str) -> "Ui":
        """A copy of this Ui with cli.PrefixedUi-style prefixes."""
        clone = Ui(self.stdout, self.stderr, self.color)
        clone.info_prefix, clone.output_prefix, clone.error_prefix = info, output, error
        return clone

    def is_tty(self) -> bool:
        try:
            return self.stdout.isatty()
        except (AttributeError, ValueError):
            return False

    @staticmethod
    def _write(stream: TextIO, message: str) -> None:
        stream.write(message + "\n")
        stream.flush()


def _detect_color(stream: TextIO) -> bool:
    if os.environ.get("NOMAD_CLI_NO_COLOR"):
        return False
    if os.environ.get("NOMAD_CLI_FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def setup_ui(args: list[str]) -> Ui:
    """Build the Ui, honouring ``-no-color``/``-force-color`` anywhere in ``args``."""
    no_color = bool(os.environ.get("NOMAD_CLI_NO_COLOR"))
    force = bool(os.environ.get("NOMAD_CLI_FORCE_COLOR"))
    for arg in args:
        if arg in ("-no-color", "--no-color"):
            no_color = True
        elif arg in ("-force-color", "--force-color"):
            force = True
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    return Ui(color=not no_color and (tty or force))
