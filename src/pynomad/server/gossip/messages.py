"""Gossip messages (memberlist's ping, indirect ping, ack, alive, suspect, dead) and the
push-pull and keyring stream messages, as tagged msgpack structs."""

from __future__ import annotations

import msgspec


class Ping(msgspec.Struct, tag="ping", array_like=True):
    Seq: int
    Target: str
    From: str


class IndirectPing(msgspec.Struct, tag="ping-req", array_like=True):
    Seq: int
    Target: str
    Addr: str
    Port: int
    From: str


class Ack(msgspec.Struct, tag="ack", array_like=True):
    Seq: int
    From: str


class Alive(msgspec.Struct, tag="alive", array_like=True):
    Incarnation: int
    Node: str
    Addr: str
    Port: int
    Tags: dict[str, str]


class Suspect(msgspec.Struct, tag="suspect", array_like=True):
    Incarnation: int
    Node: str
    From: str


class Dead(msgspec.Struct, tag="dead", array_like=True):
    """`From == Node` is a leave (the member, or `force-leave` on its behalf); `Prune`
    erases the member from every list (`force-leave -prune`)."""
    Incarnation: int
    Node: str
    From: str
    Prune: bool = False


Message = Ping | IndirectPing | Ack | Alive | Suspect | Dead
BROADCASTS = (Alive, Suspect, Dead)


class MemberState(msgspec.Struct, array_like=True):
    Name: str
    Addr: str
    Port: int
    Tags: dict[str, str]
    Incarnation: int
    State: str


class PushPull(msgspec.Struct, tag="push-pull", array_like=True):
    Join: bool
    States: list[MemberState]


class KeyRequest(msgspec.Struct, tag="key", array_like=True):
    """A keyring query: op is list, install, use or remove."""
    Op: str
    Key: str = ""


class KeyResponse(msgspec.Struct, tag="key-resp", array_like=True):
    Node: str
    Keys: list[str]
    Error: str = ""


StreamMessage = PushPull | KeyRequest | KeyResponse

_packet_encoder = msgspec.msgpack.Encoder()
_packet_decoder = msgspec.msgpack.Decoder(list[Message])
_stream_decoder = msgspec.msgpack.Decoder(StreamMessage)


def encode(msgs) -> bytes:
    return _packet_encoder.encode(msgs)


def decode_packet(data: bytes) -> list:
    return _packet_decoder.decode(data)


def decode_stream(data: bytes):
    return _stream_decoder.decode(data)
