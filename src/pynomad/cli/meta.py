"""Shared command plumbing: common flags, API client construction, prefix lookups.

Every command receives a :class:`Meta` bound to its name and help text. It
parses the command's flags (plus the client flags every Nomad command accepts),
builds an :class:`~pynomad.cli.api.Client`, and offers the lookups that many
commands share (job by prefix, allocation/eval/node by ID prefix).
"""

from __future__ import annotations

from typing import Any

from pynomad.cli import flags as flagmod
from pynomad.cli.format import FULL_ID, SHORT_ID, format_list, format_time, limit
from pynomad.cli.ui import Ui

GENERAL_OPTIONS = """General Options:

  -address=<addr>
    The address of the Nomad server.
    Overrides the NOMAD_ADDR environment variable if set.
    Default = http://127.0.0.1:4646

  -region=<region>
    The region of the Nomad servers to forward commands to.
    Overrides the NOMAD_REGION environment variable if set.
    Defaults to the Agent's local region.

  -namespace=<namespace>
    The target namespace for queries and actions bound to a namespace.
    Overrides the NOMAD_NAMESPACE environment variable if set.
    If set to '*', subcommands which support this functionality query
    all namespaces authorized to user.
    Defaults to the "default" namespace.

  -no-color
    Disables colored command output. Alternatively, NOMAD_CLI_NO_COLOR may be
    set. This option takes precedence over -force-color.

  -force-color
    Forces colored command output. Alternatively, NOMAD_CLI_FORCE_COLOR may be
    set. This option has no effect if -no-color is also used.

  -ca-cert=<path>, -ca-path=<path>, -client-cert=<path>, -client-key=<path>
    TLS material used to talk to the Nomad server. Override the NOMAD_CACERT,
    NOMAD_CAPATH, NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY environment variables.

  -tls-server-name=<value>
    The server name to use as the SNI host when connecting via TLS.

  -tls-skip-verify
    Do not verify TLS certificate. Overrides NOMAD_SKIP_VERIFY if set.

  -token
    The SecretID of an ACL token to use to authenticate API requests with.
    Overrides the NOMAD_TOKEN environment variable if set.
"""


class CommandExit(Exception):
    """Raised to end a command early with ``code`` (the message is already printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Meta:
    """Per-invocation state shared by all commands."""

    def __init__(self, ui: Ui, name: str, help_text: str = "") -> None:
        self.ui = ui
        self.name = name
        self.help_text = help_text
        self.opts: dict[str, Any] = {}
        self._client = None

    # ------------------------------------------------------------------ #
    # flags and usage
    # ------------------------------------------------------------------ #

    def parse(self, args: list[str], spec: dict[str, str], client: bool = True,
              initial: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
        """Parse flags; on error print Go's message and the help, then exit 1."""
        full = dict(flagmod.CLIENT_FLAGS) if client else {}
        full.update(spec)
        try:
            opts, rest = flagmod.parse(args, full, initial)
        except flagmod.FlagError as exc:
            if str(exc) != "help requested":
                self.ui.error(str(exc))
            self.ui.output(self.help_text)
            raise CommandExit(1) from None
        self.opts = opts
        return opts, rest

    def usage_error(self, *lines: str) -> CommandExit:
        """Print ``lines`` and the 'For additional help' hint; return an exit to raise."""
        for line in lines:
            self.ui.error(line)
        self.ui.error(f"For additional help try 'nomad {self.name} -help'")
        return CommandExit(1)

    def fail(self, message: str) -> CommandExit:
        """Print ``message`` to stderr and return an exit(1) to raise."""
        self.ui.error(message)
        return CommandExit(1)

    def id_length(self, verbose: bool) -> int:
        return FULL_ID if verbose else SHORT_ID

    # ------------------------------------------------------------------ #
    # client
    # ------------------------------------------------------------------ #

    def client(self):  # type: ignore[no-untyped-def]
        """The API client configured from environment and flags."""
        if self._client is None:
            from pynomad.cli.api import Client, Config

            cfg = Config.from_env()
            o = self.opts
            if o.get("address"):
                cfg.address = o["address"]
            for key, attr in (("region", "region"), ("namespace", "namespace"),
                              ("token", "token"), ("ca-cert", "ca_cert"),
                              ("ca-path", "ca_path"), ("client-cert", "client_cert"),
                              ("client-key", "client_key"),
                              ("tls-server-name", "tls_server_name")):
                if o.get(key):
                    setattr(cfg, attr, o[key])
            if o.get("insecure") or o.get("tls-skip-verify"):
                cfg.insecure = True
            try:
                self._client = Client(cfg)
            except Exception as exc:  # noqa: BLE001 - reported Nomad style
                raise self.fail(f"Error initializing client: {exc}") from None
        return self._client

    def all_namespaces(self) -> bool:
        return self.client().config.namespace == "*"

    # ------------------------------------------------------------------ #
    # lookups
    # ------------------------------------------------------------------ #

    def job_id_by_prefix(self, prefix: str) -> tuple[str, str]:
        """Resolve a job ID prefix to (job ID, namespace) like Nomad's JobIDByPrefix."""
        from pynomad.cli.api import APIError

        client = self.client()
        try:
            jobs, _ = client.get("/v1/jobs", {"prefix": prefix})
        except APIError as exc:
            if "Permission denied" in str(exc):
                return prefix, ""
            raise self.fail(f"Error querying job prefix {_goq(prefix)}: {exc}") from None
        jobs = jobs or []
        if not jobs:
            raise self.fail(f"No job(s) with prefix or ID {_goq(prefix)} found")
        if len(jobs) > 1:
            exact = prefix == jobs[0].get("ID")
            multi_ns = self.all_namespaces() and jobs[0].get("ID") == jobs[1].get("ID")
            if not exact or multi_ns:
                raise self.fail(f"Prefix {_goq(prefix)} matched multiple jobs\n\n"
                                + job_list_output(jobs, self.all_namespaces()))
        job = jobs[0]
        ns = job.get("Namespace") or (job.get("JobSummary") or {}).get("Namespace") or ""
        return job["ID"], ns


def _goq(text: str) -> str:
    from pynomad.helper.goformat import quote

    return quote(text)


def sanitize_uuid_prefix(prefix: str) -> str:
    """Drop a trailing odd hex digit so the prefix is queryable (Nomad's sanitizeUUIDPrefix)."""
    length = len(prefix) - prefix.count("-")
    return prefix[: len(prefix) - length % 2]


def job_type_string(job: dict[str, Any]) -> str:
    text = job.get("Type") or ""
    if job.get("Periodic"):
        text += "/periodic"
    if job.get("ParameterizedJob"):
        text += "/parameterized"
    return text


def status_string(status: str, stop: bool | None) -> str:
    return f"{status} (stopped)" if stop else status


def job_list_output(jobs: list[dict[str, Any]], display_ns: bool) -> str:
    """Nomad's createStatusListOutput: the job list table."""
    if display_ns:
        rows = ["ID|Namespace|Type|Priority|Status|Submit Date"]
    else:
        rows = ["ID|Type|Priority|Status|Submit Date"]
    for job in jobs:
        cells = [job.get("ID", "")]
        if display_ns:
            cells.append(job.get("Namespace") or (job.get("JobSummary") or {}).get("Namespace", ""))
        cells += [job_type_string(job), str(job.get("Priority", 0)),
                  status_string(job.get("Status", ""), job.get("Stop")),
                  format_time(job.get("SubmitTime"))]
        rows.append("|".join(cells))
    return format_list(rows)


def short(value: str | None, length: int) -> str:
    """Alias of :func:`limit` for readability at call sites."""
    return limit(value, length)
