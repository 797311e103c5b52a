"""Namespaces, ACL policies and ACL tokens (Nomad's structs.Namespace, structs.ACLPolicy
and structs.ACLToken, with their JSON field names).

The policy language itself is parsed and checked in `acl/`.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from .base import Base

DEFAULT_NAMESPACE = "default"
DEFAULT_NAMESPACE_DESCRIPTION = "Default shared namespace"
TOKEN_TYPE_CLIENT = "client"
TOKEN_TYPE_MANAGEMENT = "management"
ANONYMOUS_POLICY = "anonymous"


class NamespaceCapabilities(Base, forbid_unknown_fields=False):
    EnabledTaskDrivers: list[str] | None = None
    DisabledTaskDrivers: list[str] | None = None
    EnabledNetworkModes: list[str] | None = None
    DisabledNetworkModes: list[str] | None = None


class Namespace(Base, forbid_unknown_fields=False):
    Name: str = ""
    Description: str = ""
    Quota: str = ""
    Capabilities: NamespaceCapabilities | None = None
    NodePoolConfiguration: dict[str, Any] | None = None
    Meta: dict[str, str] | None = None
    Hash: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def set_hash(self) -> None:
        parts = [self.Name, self.Description, self.Quota]
        caps = self.Capabilities
        if caps is not None:
            for values in (caps.EnabledTaskDrivers, caps.DisabledTaskDrivers,
                           caps.EnabledNetworkModes, caps.DisabledNetworkModes):
                parts += list(values or [])
        for k, v in sorted((self.Meta or {}).items()):
            parts += [k, v]
        self.Hash = _hash(parts)


class JobACL(Base, forbid_unknown_fields=False):
    Namespace: str = ""
    JobID: str = ""
    Group: str = ""
    Task: str = ""


class ACLPolicy(Base, forbid_unknown_fields=False):
    Name: str = ""
    Description: str = ""
    Rules: str = ""
    JobACL: JobACL | None = None
    Hash: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def set_hash(self) -> None:
        parts = [self.Name, self.Description, self.Rules]
        if self.JobACL is not None:
            parts += [self.JobACL.Namespace, self.JobACL.JobID, self.JobACL.Group,
                      self.JobACL.Task]
        self.Hash = _hash(parts)

    def stub(self) -> dict:
        return {"Name": self.Name, "Description": self.Description,
                "JobACL": None if self.JobACL is None else {
                    "Namespace": self.JobACL.Namespace, "JobID": self.JobACL.JobID,
                    "Group": self.JobACL.Group, "Task": self.JobACL.Task},
                "Hash": self.Hash, "CreateIndex": self.CreateIndex,
                "ModifyIndex": self.ModifyIndex}


class ACLTokenRoleLink(Base, forbid_unknown_fields=False):
    ID: str = ""
    Name: str = ""


class ACLToken(Base, forbid_unknown_fields=False):
    AccessorID: str = ""
    SecretID: str = ""
    Name: str = ""
    Type: str = ""
    Policies: list[str] | None = None
    Roles: list[ACLTokenRoleLink] | None = None
    Global: bool = False
    Hash: str = ""
    CreateTime: str = ""
    ExpirationTime: str | None = None
    ExpirationTTL: int = 0
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def set_hash(self) -> None:
        parts = [self.Name, self.Type] + list(self.Policies or [])
        parts.append("global" if self.Global else "local")
        parts += [r.ID for r in self.Roles or []]
        parts.append(self.ExpirationTime or "")
        self.Hash = _hash(parts)

    def is_management(self) -> bool:
        return self.Type == TOKEN_TYPE_MANAGEMENT

    def stub(self) -> dict:
        return {"AccessorID": self.AccessorID, "Name": self.Name, "Type": self.Type,
                "Policies": self.Policies, "Roles": [
                    {"ID": r.ID, "Name": r.Name} for r in self.Roles or []] or None,
                "Global": self.Global, "Hash": self.Hash, "CreateTime": self.CreateTime,
                "ExpirationTime": self.ExpirationTime, "CreateIndex": self.CreateIndex,
                "ModifyIndex": self.ModifyIndex}


def default_namespace() -> Namespace:
    ns = Namespace(Name=DEFAULT_NAMESPACE, Description=DEFAULT_NAMESPACE_DESCRIPTION,
                   CreateIndex=1, ModifyIndex=1)
    ns.set_hash()
    return ns


def _hash(parts: list[str]) -> str:
    h = hashlib.blake2b(digest_size=32)
    for p in parts:
        h.update(p.encode())
    return base64.b64encode(h.digest()).decode()
