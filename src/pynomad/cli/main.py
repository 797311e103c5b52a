"""Entry point of the ``nomad`` command: resolves the (nested) subcommand and runs it.

Behaves like mitchellh/cli as used by Nomad: ``-h``/``-help``/``--help``
anywhere (before ``--``) prints the command's help and exits 0; ``-v``/``-version``
before the subcommand prints the version; an unknown command prints the
command list and exits 127. Command modules are imported lazily so that
``nomad version`` stays fast.
"""

from __future__ import annotations

import sys

# name -> (target "module:function", synopsis). A target of None is a noun
# whose Run prints its help (exit 1).
COMMANDS: dict[str, tuple[str | None, str]] = {
    "agent": ("agent_cmd:run", "Runs a Nomad agent"),
    "agent-info": ("server:agent_info", "Display status information about the local agent"),
    "monitor": ("agent_monitor:monitor", "Stream logs from a Nomad agent"),
    "version": ("version:run", "Prints the Nomad version"),
    "fmt": ("fmt:run", "Rewrites Nomad config and job files to canonical format"),
    "status": ("status:run", "Display the status output for a resource"),
    "job": (None, "Interact with jobs"),
    "job run": ("jobfile:run", "Run a new job or update an existing job"),
    "job plan": ("jobdiff:plan", "Dry-run a job update to determine its effects"),
    "job validate": ("jobfile:validate", "Checks if a given job specification is valid"),
    "job init": ("jobfile:init", "Create an example job file"),
    "job status": ("job:status", "Display status information about a job"),
    "job stop": ("job:stop", "Stop a running job"),
    "job inspect": ("job:inspect", "Inspect a submitted job"),
    "job allocs": ("job:allocs", "List allocations for a job"),
    "job history": ("job:history", "Display all tracked versions of a job"),
    "job eval": ("job_actions:evaluate", "Force an evaluation for the job"),
    "job revert": ("job_actions:revert", "Revert to a prior version of the job"),
    "job dispatch": ("job_actions:dispatch", "Dispatch an instance of a parameterized job"),
    "job scale": ("job_actions:scale", "Change the count of a job's task group"),
    "job periodic": (None, "Interact with periodic jobs"),
    "job periodic force": ("job_actions:periodic_force", "Force the launch of a periodic job"),
    "job deployments": ("deployment:job_deployments", "List deployments for a job"),
    "job promote": ("deployment:job_promote", "Promote a job's canaries"),
    "alloc": (None, "Interact with allocations"),
    "alloc status": ("alloc:status", "Display allocation status information and metadata"),
    "alloc logs": ("alloc_logs:logs", "Streams the logs of a task."),
    "alloc fs": ("alloc_fs:fs", "Inspect the contents of an allocation directory"),
    "alloc exec": ("alloc_exec:exec_cmd", "Execute commands in task"),
    "alloc stop": ("alloc:stop", "Stop and reschedule a running allocation"),
    "alloc restart": ("alloc:restart", "Restart a running allocation"),
    "alloc signal": ("alloc:signal", "Signal a running allocation"),
    "node": (None, "Interact with nodes"),
    "node status": ("node:status", "Display status information about nodes"),
    "node eligibility": ("node:eligibility", "Toggle scheduling eligibility for a given node"),
    "node drain": ("node:drain", "Toggle drain mode on a given node"),
    "eval": (None, "Interact with evaluations"),
    "eval status": ("eval:status", "Display evaluation status and placement failure reasons"),
    "eval list": ("eval:list_evals", "List the set of evaluations processed by Nomad"),
    "deployment": (None, "Interact with deployments"),
    "deployment status": ("deployment:status", "Display the status of a deployment"),
    "deployment list": ("deployment:list_deployments", "List all deployments"),
    "deployment promote": ("deployment:promote", "Promote canaries in a deployment"),
    "deployment fail": ("deployment:fail", "Manually fail a deployment"),
    "server": (None, "Interact with servers"),
    "server members": ("server:members", "Display a list of known servers and their status"),
    "server join": ("server:join", "Join server nodes together"),
    "server force-leave": ("server:force_leave", "Force a server into the 'left' state"),
    "operator": (None, "Provides cluster-level tools for Nomad operators"),
    "operator scheduler": (None, "Provides access to the scheduler configuration"),
    "operator scheduler get-config": ("operator:get_config",
                                      "Display the current scheduler configuration"),
    "operator scheduler set-config": ("operator:set_config",
                                      "Modify the current scheduler configuration"),
    "operator snapshot": (None, "Saves and inspects snapshots of Nomad server state"),
    "operator snapshot save": ("operator:snapshot_save",
                               "Saves snapshot of Nomad server state"),
    "operator snapshot restore": ("operator:snapshot_restore",
                                  "Restore snapshot of Nomad server state"),
    "operator snapshot inspect": ("operator:snapshot_inspect",
                                  "Displays information about a Nomad snapshot file"),
    "operator root": (None, "Provides access to root encryption keys"),
    "operator root keyring": (None, "Manages root encryption keys"),
    "operator root keyring list": ("operator_keyring:keyring_list",
                                   "Lists the root encryption keys"),
    "operator root keyring rotate": ("operator_keyring:keyring_rotate",
                                     "Rotates the root encryption key"),
    "operator root keyring remove": ("operator_keyring:keyring_remove",
                                     "Removes a root encryption key"),
    "operator gossip": (None, "Provides access to the Gossip subsystem"),
    "operator gossip keyring": (None, "Manages gossip layer encryption keys"),
    "operator gossip keyring install": ("keyring:install", "Install a gossip encryption key"),
    "operator gossip keyring use": ("keyring:use", "Change the gossip encryption key used"),
    "operator gossip keyring list": ("keyring:list_keys", "List gossip encryption keys"),
    "operator gossip keyring remove": ("keyring:remove", "Remove a gossip encryption key"),
    "operator gossip keyring generate": ("keyring:generate",
                                         "Generates a new encryption key"),
    "operator keyring": ("keyring:keyring", "Manages gossip layer encryption keys"),
    "operator keygen": ("keyring:generate", "Generates a new encryption key"),
    "operator raft": (None, "Provides access to the Raft subsystem"),
    "operator raft list-peers": ("operator:raft_list_peers",
                                 "Display the current Raft peer configuration"),
    "operator raft remove-peer": ("operator_raft:remove_peer",
                                  "Remove a Nomad server from the Raft configuration"),
    "namespace": (None, "Interact with namespaces"),
    "namespace apply": ("namespace:apply", "Create or update a namespace"),
    "namespace list": ("namespace:list_namespaces", "List namespaces"),
    "namespace status": ("namespace:status", "Display a namespace's status"),
    "namespace inspect": ("namespace:inspect", "Inspect a namespace"),
    "namespace delete": ("namespace:delete", "Delete a namespace"),
    "acl": (None, "Interact with ACL policies and tokens"),
    "acl bootstrap": ("acl:bootstrap", "Bootstrap the ACL system for initial token"),
    "acl policy": (None, "Interact with ACL policies"),
    "acl policy apply": ("acl:policy_apply", "Create or update an ACL policy"),
    "acl policy list": ("acl:policy_list", "List ACL policies"),
    "acl policy info": ("acl:policy_info", "Fetch info on an existing ACL policy"),
    "acl policy delete": ("acl:policy_delete", "Delete an existing ACL policy"),
    "acl token": (None, "Interact with ACL tokens"),
    "acl token create": ("acl:token_create", "Create a new ACL token"),
    "acl token list": ("acl:token_list", "List ACL tokens"),
    "acl token info": ("acl:token_info", "Fetch information on an existing ACL token"),
    "acl token self": ("acl:token_self", "Lookup self ACL token"),
    "acl token update": ("acl:token_update", "Update an existing ACL token"),
    "acl token delete": ("acl:token_delete", "Delete an existing ACL token"),
    "system": (None, "Interact with the system API"),
    "system gc": ("system:gc", "Run the system garbage collection process"),
    "system reconcile": (None, "Reconciles the Nomad system"),
    "system reconcile summaries": ("system:reconcile_summaries",
                                   "Reconciles the summaries of all registered jobs"),
    "tls": (None, "Generate Self Signed TLS Certificates for Nomad"),
    "tls ca": (None, "Helpers for managing CAs"),
    "tls ca create": ("tls:ca_create", "Create a certificate authority for Nomad"),
    "tls cert": (None, "Helpers for managing certificates"),
    "tls cert create": ("tls:cert_create", "Create a new certificate"),
    "service": (None, "Interact with registered services"),
    "service list": ("service:list_services", "Display all registered Nomad services"),
    "service info": ("service:info", "Display an individual Nomad service registration"),
    "service delete": ("service:delete", "Deregister a registered Nomad service"),
    "var": (None, "Interact with variables"),
    "var put": ("var:put", "Create or update a variable"),
    "var get": ("var:get", "Read a variable"),
    "var list": ("var:list_vars", "List variable metadata"),
    "var purge": ("var:purge", "Purge a variable"),
    "var init": ("var:init", "Create an example variable specification file"),
    "ui": ("ui_cmd:ui", "Open the Nomad Web UI"),
}

ALIASES: dict[str, str] = {
    "run": "job run",
    "plan": "job plan",
    "stop": "job stop",
    "validate": "job validate",
    "inspect": "job inspect",
    "init": "job init",
    "alloc-status": "alloc status",
    "eval-status": "eval status",
    "node-status": "node status",
    "node-drain": "node drain",
    "logs": "alloc logs",
    "fs": "alloc fs",
    "server-members": "server members",
}

COMMON = ["run", "stop", "status", "alloc", "job", "node", "agent"]

_HELP_FLAGS = ("-h", "-help", "--help")
_VERSION_FLAGS = ("-v", "-version", "--version")


def _known(name: str) -> bool:
    return name in COMMANDS or name in ALIASES


def resolve(args: list[str]) -> tuple[str, list[str], list[str]]:
    """Split ``args`` into (command name, command args, flags seen before the command)."""
    top_flags: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg.startswith("-"):
            top_flags.append(arg)
            continue
        words = args[i:]
        for n in range(len(words), 0, -1):
            candidate = " ".join(words[:n])
            if _known(candidate):
                return candidate, list(words[n:]), top_flags
        return arg, list(args[i + 1:]), top_flags
    return "", [], top_flags


def top_help() -> str:
    """The top-level usage text listing the commands."""
    lines = ["Usage: nomad [-version] [-help] [-autocomplete-(un)install] <command> [args]", "",
             "Common commands:"]
    width = max(len(c) for c in COMMON)
    for name in COMMON:
        lines.append(f"    {name.ljust(width)}    {_synopsis(name)}")
    lines += ["", "Other commands:"]
    others = sorted(n for n in COMMANDS if " " not in n and n not in COMMON)
    width = max(len(n) for n in others)
    for name in others:
        lines.append(f"    {name.ljust(width)}    {_synopsis(name)}")
    return "\n".join(lines)


def _synopsis(name: str) -> str:
    name = ALIASES.get(name, name)
    return COMMANDS[name][1]


def noun_help(noun: str) -> str:
    """Help for a noun (``nomad job``): its subcommands and their synopses."""
    subs = sorted(n for n in COMMANDS if n.startswith(noun + " ")
                  and " " not in n[len(noun) + 1:])
    lines = [f"Usage: nomad {noun} <subcommand> [options] [args]", "",
             f"  {COMMANDS[noun][1]}. Run 'nomad {noun} <subcommand> -h' for help", "",
             "Subcommands:"]
    width = max((len(s) - len(noun) - 1 for s in subs), default=0)
    for sub in subs:
        lines.append(f"    {sub[len(noun) + 1:].ljust(width)}    {COMMANDS[sub][1]}")
    return "\n".join(lines)


def _load(name: str):  # type: ignore[no-untyped-def]
    import importlib

    target = COMMANDS[name][0]
    assert target is not None
    module_name, func_name = target.split(":")
    module = importlib.import_module(f"pynomad.cli.{module_name}")
    return module, getattr(module, func_name)


def _help_text(name: str, module) -> str:  # type: ignore[no-untyped-def]
    text = getattr(module, "HELP", {}).get(name, "")
    return text.strip("\n") or f"Usage: nomad {name} [options]"


def main(argv: list[str] | None = None) -> int:
    """Run the ``nomad`` command line; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["agent"]:
        from pynomad.cli.agent_cmd import run as agent_run

        return agent_run(args[1:])
    from pynomad.cli.ui import setup_ui

    ui = setup_ui(args)
    name, cmd_args, top_flags = resolve(args)
    wants_help = any(a in _HELP_FLAGS for a in _args_before_dashdash(args))
    if not name and any(f in _VERSION_FLAGS for f in top_flags):
        name, top_flags = "version", []
    if not name:
        ui.output(top_help())
        return 0 if wants_help else 127
    name = ALIASES.get(name, name)
    if name not in COMMANDS:
        ui.output(top_help())
        return 127
    bad_top = [f for f in top_flags if f not in _HELP_FLAGS + _VERSION_FLAGS]
    if COMMANDS[name][0] is None:
        ui.output(noun_help(name))
        return 0 if wants_help else 1
    module, func = _load(name)
    if wants_help:
        ui.output(_help_text(name, module))
        return 0
    if bad_top:
        ui.error("Invalid flags before the subcommand. If these flags are for\n"
                 "the subcommand, please put them after the subcommand.\n")
        ui.output(_help_text(name, module))
        return 1
    return _run(ui, name, module, func, cmd_args)


def _args_before_dashdash(args: list[str]) -> list[str]:
    return args[: args.index("--")] if "--" in args else args


def _run(ui, name: str, module, func, cmd_args: list[str]) -> int:  # type: ignore[no-untyped-def]
    from pynomad.cli.meta import CommandExit, Meta

    meta = Meta(ui, name, _help_text(name, module))
    try:
        return int(func(meta, cmd_args) or 0)
    except CommandExit as exc:
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # noqa: BLE001 - never show a traceback
        ui.error(f"Error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
