"""``nomad system`` commands: gc and reconcile summaries."""

from __future__ import annotations

from pynomad.cli.api import APIError
from pynomad.cli.meta import Meta

HELP = {
    "system gc": """Usage: nomad system gc [options]

  Initializes a garbage collection of jobs, evaluations, allocations, and
  nodes. This is an asynchronous operation.
""",
    "system reconcile summaries": """Usage: nomad system reconcile summaries [options]

  Reconciles the summaries of all registered jobs.
""",
}


def gc(meta: Meta, args: list[str]) -> int:
    """``nomad system gc``: ``PUT /v1/system/gc``; prints nothing on success."""
    _, args = meta.parse(args, {})
    if args:
        meta.ui.error("This command takes no arguments")
        meta.ui.error(f"For additional help try 'nomad {meta.name} -help'")
    try:
        meta.client().put("/v1/system/gc")
    except APIError as exc:
        raise meta.fail(f"Error running system garbage-collection: {exc}") from None
    return 0


def reconcile_summaries(meta: Meta, args: list[str]) -> int:
    """``nomad system reconcile summaries``: ``PUT /v1/system/reconcile/summaries``."""
    _, args = meta.parse(args, {})
    if args:
        raise meta.usage_error("This command takes no arguments")
    try:
        meta.client().put("/v1/system/reconcile/summaries")
    except APIError as exc:
        raise meta.fail(f"Error running system summary reconciliation: {exc}") from None
    return 0
