"""``nomad agent``: hands the arguments to the agent package (written separately)."""

from __future__ import annotations

import sys


def run(args: list[str]) -> int:
    """Start an agent; the agent parses its own flags and prints its own help."""
    try:
        from pynomad.agent import main as agent_main  # type: ignore[attr-defined]
    except ImportError as exc:
        sys.stderr.write(f"Error starting agent: {exc}\n")
        return 1
    return int(agent_main(args) or 0)
