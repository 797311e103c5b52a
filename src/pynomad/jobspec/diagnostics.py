"""Diagnostics (HCL-style error reports) and the JobspecError exception."""

from __future__ import annotations

from dataclasses import dataclass

from .nodes import Range


@dataclass
class Diagnostic:
    """One problem: ``<file:line,col-col>: <summary>; <detail>``."""

    summary: str
    detail: str = ""
    subject: Range | None = None

    def __str__(self) -> str:
        text = self.summary
        if self.detail:
            text = f"{text}; {self.detail}"
        if self.subject is not None:
            text = f"{self.subject}: {text}"
        return text


class JobspecError(Exception):
    """A job file could not be parsed; ``str()`` has one line per problem."""

    def __init__(self, problems: "list[Diagnostic] | Diagnostic | str") -> None:
        if isinstance(problems, str):
            problems = [Diagnostic(problems)]
        elif isinstance(problems, Diagnostic):
            problems = [problems]
        self.diagnostics: list[Diagnostic] = list(problems)
        lines = [str(d).replace("\n", " ") for d in self.diagnostics]
        super().__init__("\n".join(lines))


class EvalError(Exception):
    """Raised inside expression evaluation; carries one diagnostic."""

    def __init__(self, summary: str, detail: str = "", subject: Range | None = None):
        self.diag = Diagnostic(summary, detail, subject)
        super().__init__(str(self.diag))


class Diags(list):
    """A list of diagnostics with small helpers."""

    def error(self, summary: str, detail: str = "", subject: Range | None = None) -> None:
        self.append(Diagnostic(summary, detail, subject))

    def raise_if_any(self) -> None:
        if self:
            raise JobspecError(list(self))
