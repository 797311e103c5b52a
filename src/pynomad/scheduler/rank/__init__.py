"""Ranking steps of the placement chain, one per file (Nomad's rank.go, spread.go,
select.go), in chain order:

- `binpack`: fit and `binpack` score, with the resource assigners `network` (ports),
  `devices` and `cores` offering what the placement gets; preemption when allowed.
- `job_anti_affinity`, `reschedule_penalty`, `node_affinity`, `spread`,
  `preemption_score`: score terms.
- `normalize` (mean of the terms), `limit` (how many candidates), `max_score` (the best).
"""

from .preemption_score import net_priority, preemption_score  # noqa: F401
