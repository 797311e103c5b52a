"""Operator endpoints: the scheduler configuration (Nomad's Operator.SchedulerGet/Set
Configuration), bootstrapped by the leader from `server.default_scheduler_config`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..state import entries as e
from ..structs.operator import SchedulerConfiguration, config_from_agent
from ..structs import to_builtins
from .errors import BadRequest

if TYPE_CHECKING:
    from .server import Server


class OperatorEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server
        self._default: SchedulerConfiguration | None = None

    def scheduler_config(self) -> SchedulerConfiguration:
        """The stored configuration, or the agent's default before it is bootstrapped."""
        cfg = self.server.state.scheduler_config
        if cfg is not None:
            return cfg
        if self._default is None:
            self._default = self.default_config()
        return self._default

    def default_config(self) -> SchedulerConfiguration:
        """The agent's `default_scheduler_config` (ValueError with a reason if invalid)."""
        block = dict(self.server.config.default_scheduler_config or {})
        block.setdefault("scheduler_algorithm", self.server.config.scheduler_algorithm)
        return config_from_agent(block)

    async def bootstrap(self) -> None:
        """Leader duty: store the agent's default configuration if none exists yet."""
        if self.server.state.scheduler_config is not None:
            return
        cfg = self.default_config()
        await self.server.commit(e.SchedulerConfigUpdate(Config=cfg, OnlyIfMissing=True))

    def get_scheduler_config(self) -> dict:
        cfg = self.server.state.scheduler_config
        index = cfg.ModifyIndex if cfg is not None else 0
        return {"SchedulerConfig": to_builtins(cfg) if cfg is not None else None,
                "Index": index, "KnownLeader": True, "LastContact": 0, "NextToken": ""}

    async def set_scheduler_config(self, cfg: SchedulerConfiguration, cas: int | None) -> dict:
        """Set the configuration; with `cas`, only if the stored ModifyIndex equals it.

        `Updated` reports a CAS outcome; it is false for plain sets (as in Nomad)."""
        err = cfg.validate()
        if err:
            raise BadRequest(err)
        index = await self.server.commit(e.SchedulerConfigUpdate(
            Config=cfg, CAS=cas is not None, CASIndex=cas or 0))
        stored = self.server.state.scheduler_config
        updated = cas is not None and stored is not None and stored.ModifyIndex == index
        return {"Updated": updated, "Index": index}
