"""``nomad version``: prints ``Nomad v<version>``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pynomad.cli.meta import Meta

HELP = {"version": "Usage: nomad version\n\n  Prints the Nomad version."}


def version_string() -> str:
    from pynomad import __version__

    return f"Nomad v{__version__}"


def run(meta: "Meta", args: list[str]) -> int:
    """Print the version; arguments are ignored, as in Nomad."""
    meta.ui.output(version_string())
    return 0
