"""Gossip over the serf port: UDP packets for probes and broadcasts, TCP streams for
push-pull state exchange and keyring queries. Everything sent is sealed with the keyring.

A TCP stream carries frames: a 4-byte big-endian length, then the sealed msgpack message.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time

from .keyring import DecryptError, Keyring, KeyringError
from .membership import GossipConfig, Member, Membership
from .messages import (KeyRequest, KeyResponse, PushPull, decode_packet, decode_stream,
                       encode)

log = logging.getLogger("pynomad.gossip")

_LEN = struct.Struct(">I")
MAX_FRAME = 16 * 1024 * 1024
TICK_S = 0.05
STREAM_TIMEOUT_S = 5.0
DEFAULT_PORT = 4648


class JoinError(Exception):
    pass


class _UDP(asyncio.DatagramProtocol):
    def __init__(self, gossip: "Gossip") -> None:
        self.gossip = gossip

    def datagram_received(self, data: bytes, addr) -> None:
        self.gossip._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("gossip udp error: %s", exc)


def split_host_port(addr: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    addr = addr.strip()
    if addr.startswith("["):
        host, _, rest = addr[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if addr.count(":") == 1:
        host, port = addr.split(":")
        return host, int(port)
    return addr, default_port


class Gossip:
    """A gossip member: membership state machine, sockets and keyring."""

    def __init__(self, name: str, bind: tuple[str, int], advertise: tuple[str, int],
                 tags: dict[str, str], keyring: Keyring | None = None,
                 config: GossipConfig | None = None, clock=time.monotonic) -> None:
        self.bind = bind
        self.keyring = keyring or Keyring()
        self.membership = Membership(name, advertise[0], advertise[1], tags,
                                     config or GossipConfig(), clock)
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.base_events.Server | None = None
        self._loop_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def name(self) -> str:
        return self.membership.name

    def members(self) -> list[Member]:
        return list(self.membership.members.values())

    def add_listener(self, fn) -> None:
        self.membership.listeners.append(fn)

    def set_tags(self, tags: dict[str, str]) -> None:
        self.membership.set_tags(tags)

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _UDP(self), local_addr=self.bind, reuse_port=False)
        self._tcp = await asyncio.start_server(self._on_stream, self.bind[0], self.bind[1],
                                               reuse_address=True)
        self._loop_task = asyncio.create_task(self._run())

    async def stop(self, leave: bool = False) -> None:
        if leave and self.membership.alive_others():
            self.membership.leave()
            deadline = time.monotonic() + 2.0
            while self.membership.pending_broadcasts() and time.monotonic() < deadline:
                await asyncio.sleep(TICK_S)
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
        if self._udp is not None:
            self._udp.close()

    async def _run(self) -> None:
        while True:
            try:
                self._send(self.membership.tick())
                peer = self.membership.push_pull_due()
                if peer is not None:
                    self._spawn(self._push_pull_quiet(peer.addr, peer.port))
            except Exception:  # a bug here must not stop the failure detector
                log.exception("gossip tick failed")
            await asyncio.sleep(TICK_S)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- UDP ----------------------------------------------------------------------------
    def _send(self, packets) -> None:
        if self._udp is None:
            return
        for addr, port, msgs in packets:
            if msgs:
                try:
                    self._udp.sendto(self.keyring.seal(encode(msgs)), (addr, port))
                except OSError as err:
                    log.debug("gossip send to %s:%d: %s", addr, port, err)

    def _on_datagram(self, data: bytes, addr) -> None:
        try:
            msgs = decode_packet(self.keyring.open(data))
        except DecryptError:
            log.debug("gossip packet from %s:%d: no installed key decrypts it", *addr[:2])
            return
        except Exception as err:  # noqa: BLE001 - any garbage on the port is dropped
            log.debug("gossip packet from %s:%d dropped: %s", addr[0], addr[1], err)
            return
        self._send(self.membership.handle(msgs, (addr[0], addr[1])))

    # -- TCP ----------------------------------------------------------------------------
    async def _write(self, writer: asyncio.StreamWriter, msg) -> None:
        data = self.keyring.seal(encode(msg))
        writer.write(_LEN.pack(len(data)) + data)
        await writer.drain()

    async def _read(self, reader: asyncio.StreamReader):
        (n,) = _LEN.unpack(await reader.readexactly(_LEN.size))
        if n > MAX_FRAME:
            raise ValueError(f"gossip frame of {n} bytes is too large")
        return decode_stream(self.keyring.open(await reader.readexactly(n)))

    async def _on_stream(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            msg = await asyncio.wait_for(self._read(reader), STREAM_TIMEOUT_S)
            if isinstance(msg, PushPull):
                await self._write(writer, PushPull(False, self.membership.local_state()))
                self.membership.merge(msg.States)
            elif isinstance(msg, KeyRequest):
                await self._write(writer, self._key_op_local(msg))
        except DecryptError:
            log.warning("gossip stream from %s refused: no installed key decrypts it "
                        "(is the encryption key the same?)", peer)
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, OSError):
            pass
        except Exception as err:  # noqa: BLE001 - a bad stream closes, nothing else
            log.debug("gossip stream from %s dropped: %s", peer, err)
        finally:
            writer.close()

    async def _exchange(self, host: str, port: int, msg):
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                STREAM_TIMEOUT_S)
        try:
            await self._write(writer, msg)
            return await asyncio.wait_for(self._read(reader), STREAM_TIMEOUT_S)
        finally:
            writer.close()

    async def push_pull(self, host: str, port: int, join: bool = False) -> None:
        try:
            reply = await self._exchange(host, port, PushPull(join, self.membership.local_state()))
        except asyncio.IncompleteReadError:
            raise JoinError("the remote closed the connection (is the gossip "
                            "encryption key the same?)") from None
        except DecryptError as err:
            raise JoinError(str(err)) from None
        except (OSError, asyncio.TimeoutError) as err:
            raise JoinError(str(err) or type(err).__name__) from None
        if not isinstance(reply, PushPull):
            raise JoinError("unexpected reply to a push-pull")
        self.membership.merge(reply.States)

    async def _push_pull_quiet(self, host: str, port: int) -> None:
        try:
            await self.push_pull(host, port)
        except JoinError as err:
            log.debug("push-pull with %s:%d failed: %s", host, port, err)

    async def join(self, addrs: list[str]) -> tuple[int, list[str]]:
        """Join through each address ("host[:port]"); the number joined and the errors."""
        async def one(addr: str) -> str:
            try:
                host, port = split_host_port(addr)
            except ValueError:
                return f"{addr}: invalid address"
            try:
                await self.push_pull(host, port, join=True)
            except JoinError as err:
                return f"Failed to join {host}:{port}: {err}"
            return ""

        errors = await asyncio.gather(*(one(a) for a in addrs))
        return sum(1 for e in errors if not e), [e for e in errors if e]

    # -- keyring queries ------------------------------------------------------------------
    def _key_op_local(self, req: KeyRequest) -> KeyResponse:
        ring, err = self.keyring, ""
        try:
            if req.Op == "install":
                ring.install(req.Key)
            elif req.Op == "use":
                ring.use(req.Key)
            elif req.Op == "remove":
                ring.remove(req.Key)
            elif req.Op != "list":
                err = f"unknown keyring operation {req.Op!r}"
        except KeyringError as exc:
            err = str(exc)
        return KeyResponse(self.name, ring.list(), err)

    async def key_op(self, op: str, key: str = "") -> dict:
        """Run a keyring operation on every alive member, as Serf's key queries do, and
        gather Nomad's KeyringResponse: per-node errors, each key's count, node count."""
        req = KeyRequest(op, key)
        others = self.membership.alive_others()

        async def remote(m: Member) -> KeyResponse:
            try:
                reply = await self._exchange(m.addr, m.port, req)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                    DecryptError) as err:
                return KeyResponse(m.name, [], f"no reply: {err or type(err).__name__}")
            if not isinstance(reply, KeyResponse):
                return KeyResponse(m.name, [], "unexpected reply")
            return reply

        replies = [self._key_op_local(req)] + list(await asyncio.gather(*map(remote, others)))
        keys: dict[str, int] = {}
        for r in replies:
            for k in r.Keys:
                keys[k] = keys.get(k, 0) + 1
        return {"Messages": {r.Node: r.Error for r in replies if r.Error}, "Keys": keys,
                "NumNodes": len(replies)}
