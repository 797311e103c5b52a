"""Compact forms of the two bulky allocation fields the state store keeps but rarely reads.

A server holds every allocation in memory. An allocation's placement metrics (written by
the scheduler) and its task states (reported by its client, with their event history) take
over 2 KB as structs, yet are read only when someone looks at the allocation. The state store
keeps each as one msgpack blob instead (structs encoded as arrays), under a quarter of
the size, and decodes it lazily: on every read of a value (the task names of packed task
states are kept aside, so `len`, `in` and iteration decode nothing). `Allocation`'s field
types say so. Encoders turn packed values back into the full structs through
`base.enc_hook`, so the API shows exactly what was stored.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from .alloc import Allocation, AllocMetric, TaskState

_MIRRORS: dict[type, type] = {}


def _mirror(cls: type) -> type:
    """An array-like twin of a struct type (nested structs mirrored too)."""
    mirror = _MIRRORS.get(cls)
    if mirror is None:
        spec = []
        for f in msgspec.structs.fields(cls):
            default = f.default if f.default is not msgspec.NODEFAULT else \
                msgspec.field(default_factory=f.default_factory)
            spec.append((f.name, _mirror_type(f.type), default))
        mirror = _MIRRORS[cls] = msgspec.defstruct(
            "Packed" + cls.__name__, spec, kw_only=True, array_like=True, gc=False)
    return mirror


def _mirror_type(tp: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _mirror(tp)
    args = typing.get_args(tp)
    if not args:
        return tp
    mirrored = tuple(_mirror_type(a) for a in args)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[mirrored]
    return origin[mirrored]


class Packed:
    """A value kept as a msgpack blob; `unpack()` decodes a fresh copy."""

    __slots__ = ("blob",)

    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def unpack(self) -> Any:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Packed):
            return type(other) is type(self) and other.blob == self.blob
        return self.unpack() == other

    __hash__ = None  # type: ignore[assignment]


_StateMirror = _mirror(TaskState)
_states_encoder = msgspec.msgpack.Encoder()
_states_decoder = msgspec.msgpack.Decoder(dict[str, _StateMirror])


class PackedTaskStates(Packed, Mapping[str, TaskState]):
    """An allocation's task states by task name: a read-only mapping that decodes a task's
    state on each access (`unpack()` decodes them all once)."""

    __slots__ = ("_names",)

    def __init__(self, blob: bytes, names: tuple[str, ...]) -> None:
        super().__init__(blob)
        # one task (the usual case) keeps its interned name alone: no tuple per allocation
        self._names: str | tuple[str, ...] = names[0] if len(names) == 1 else names

    @property
    def names(self) -> tuple[str, ...]:
        return (self._names,) if isinstance(self._names, str) else self._names

    @classmethod
    def pack(cls, states: Mapping[str, TaskState]) -> "PackedTaskStates":
        return cls(_states_encoder.encode(
            {name: msgspec.convert(s, _StateMirror, from_attributes=True)
             for name, s in states.items()}), tuple(sys.intern(n) for n in states))

    def unpack(self) -> dict[str, TaskState]:
        return {name: msgspec.convert(s, TaskState, from_attributes=True)
                for name, s in _states_decoder.decode(self.blob).items()}

    def __getitem__(self, name: str) -> TaskState:
        if name not in self.names:
            raise KeyError(name)
        return self.unpack()[name]

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def values(self):  # type: ignore[override]  # one decode for all, not one per task
        return self.unpack().values()

    def items(self):  # type: ignore[override]
        return self.unpack().items()


_MetricMirror = _mirror(AllocMetric)
_metric_decoder = msgspec.msgpack.Decoder(_MetricMirror)


class PackedMetric(Packed):
    """An allocation's placement metrics (`AllocMetric`), decoded on each attribute read."""

    __slots__ = ()

    @classmethod
    def pack(cls, metric: AllocMetric) -> "PackedMetric":
        return cls(_states_encoder.encode(
            msgspec.convert(metric, _MetricMirror, from_attributes=True)))

    def unpack(self) -> AllocMetric:
        return msgspec.convert(_metric_decoder.decode(self.blob), AllocMetric,
                               from_attributes=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unpack(), name)


def pack_alloc(alloc: Allocation) -> None:
    """Replace the alloc's metrics and task states by their packed forms, in place."""
    if alloc.TaskStates and not isinstance(alloc.TaskStates, Packed):
        alloc.TaskStates = PackedTaskStates.pack(alloc.TaskStates)
    if alloc.Metrics is not None and not isinstance(alloc.Metrics, Packed):
        alloc.Metrics = PackedMetric.pack(alloc.Metrics)
