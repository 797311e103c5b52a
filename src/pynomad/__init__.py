"""pynomad: a workload orchestrator compatible with HashiCorp Nomad.

Packages, in import order (a package imports only from those above it):
structs, jobspec, state, backend, scheduler, server, client, drivers, acl, http, cli, agent.
Exceptions: `cli` talks to agents over HTTP only (and starts `agent` for `nomad agent`);
`scheduler` never imports `server`, `backend` or `http`.
"""

__version__ = "1.6.5"
