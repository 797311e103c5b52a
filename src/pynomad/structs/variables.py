"""Nomad Variables as the API shows them (Nomad's structs.VariableDecrypted, JSON field
names). State keeps them sealed by the root keyring (`structs.keyring.VariableEncrypted`);
the server decrypts on read.
"""

from __future__ import annotations

from .base import Base


class Variable(Base, forbid_unknown_fields=False):
    Namespace: str = ""
    Path: str = ""
    Items: dict[str, str] | None = None
    CreateIndex: int = 0
    CreateTime: int = 0
    ModifyIndex: int = 0
    ModifyTime: int = 0

    def metadata(self) -> dict:
        """Nomad's VariableMetadata: everything but the items."""
        return {"Namespace": self.Namespace, "Path": self.Path,
                "CreateIndex": self.CreateIndex, "CreateTime": self.CreateTime,
                "ModifyIndex": self.ModifyIndex, "ModifyTime": self.ModifyTime}

    def to_dict(self) -> dict:
        out = self.metadata()
        out["Items"] = dict(self.Items or {})
        return out
