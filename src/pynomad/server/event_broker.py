"""The event broker (Nomad's nomad/stream/event_broker.go): turns applied log entries into
event frames, keeps the last `buffer_size` frames so a subscriber can start from an index,
and hands each subscriber the frames that match its topics, keys and namespace.

Cost: events are produced and encoded only while the broker is *active*: while someone is
subscribed, and for `resume_window_s` after the last subscriber left (so a client that
reconnects with the last index it saw resumes without a gap). With nobody subscribed, an
applied entry costs one attribute check and a clock read.

Each event is JSON-encoded once, when its entry is applied, and shared by every subscriber;
the buffer keeps the encoded bytes and the few fields filtering needs, never the objects.
A subscriber whose queue reaches `queue_size` frames is dropped (closed), never waited for.
Everything runs on the server's asyncio loop.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

import msgspec

from ..state import StateStore
from ..state import entries as e
from ..state.events import Event, events_from_entry
from ..structs import enc_hook

DEFAULT_BUFFER_SIZE = 100        # Nomad's event_buffer_size
DEFAULT_QUEUE_SIZE = 512         # frames a subscriber may lag behind before it is dropped
DEFAULT_RESUME_WINDOW_S = 300.0
ALL = "*"

_encoder = msgspec.json.Encoder(enc_hook=enc_hook)


class SubscriptionClosed(Exception):
    """The subscription was closed (too slow, or the broker shut down)."""


class BufferedEvent:
    """An event reduced to what filtering needs, plus its JSON encoding."""
    __slots__ = ("topic", "key", "namespace", "filter_keys", "json")

    def __init__(self, event: Event) -> None:
        self.topic = event.Topic
        self.key = event.Key
        self.namespace = event.Namespace
        self.filter_keys = event.FilterKeys or ()
        self.json = _encoder.encode(event)


class Frame:
    """The events of one index: `{"Index": N, "Events": [...]}`."""
    __slots__ = ("index", "events")

    def __init__(self, index: int, events: list[BufferedEvent]) -> None:
        self.index = index
        self.events = events

    def encode(self) -> bytes:
        """One ndjson line."""
        return b'{"Index":%d,"Events":[%s]}\n' % (self.index,
                                                    b",".join(ev.json for ev in self.events))


def parse_topics(values: list[str]) -> dict[str, set[str]]:
    """`["Job:web", "Node"]` → {"Job": {"web"}, "Node": {"*"}}; none → {"*": {"*"}}.
    Raises ValueError for an empty topic."""
    topics: dict[str, set[str]] = {}
    for value in values:
        topic, _, key = value.partition(":")
        if not topic:
            raise ValueError(f"Invalid topic query: {value!r}")
        topics.setdefault(topic, set()).add(key or ALL)
    return topics or {ALL: {ALL}}


class Subscription:
    def __init__(self, topics: dict[str, set[str]], namespace: str, queue_size: int) -> None:
        self.topics = topics
        self.namespace = namespace
        self.queue_size = queue_size
        self.frames: deque[Frame] = deque()
        self.closed_reason = ""
        self._wakeup = asyncio.Event()

    @property
    def closed(self) -> bool:
        return bool(self.closed_reason)

    def matches(self, ev: BufferedEvent) -> bool:
        """Nomad's subscription filter: namespace (events without one always pass), then
        the keys of the event's topic and of `*` (Key or any FilterKey; `*` any)."""
        ns = self.namespace
        if ns and ns != ALL and ev.namespace and ev.namespace != ns:
            return False
        for keys in (self.topics.get(ALL), self.topics.get(ev.topic)):
            if keys and (ALL in keys or ev.key in keys
                         or any(k in keys for k in ev.filter_keys)):
                return True
        return False

    def offer(self, frame: Frame) -> bool:
        """Queue the matching part of `frame`; False if the queue is full."""
        events = [ev for ev in frame.events if self.matches(ev)]
        if not events:
            return True
        if len(self.frames) >= self.queue_size:
            return False
        self.frames.append(Frame(frame.index, events))
        self._wakeup.set()
        return True

    def close(self, reason: str) -> None:
        self.closed_reason = self.closed_reason or reason
        self._wakeup.set()

    def next_nowait(self) -> Frame | None:
        """The next queued frame, or None; raises SubscriptionClosed once drained and closed."""
        if self.frames:
            return self.frames.popleft()
        if self.closed:
            raise SubscriptionClosed(self.closed_reason)
        return None

    async def next(self, timeout: float) -> Frame | None:
        """The next frame; None if none came within `timeout` seconds (time to heartbeat)."""
        frame = self.next_nowait()
        if frame is not None:
            return frame
        self._wakeup.clear()
        try:
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        except asyncio.TimeoutError:
            return None
        return self.next_nowait()


class EventBroker:
    def __init__(self, state: StateStore, buffer_size: int = DEFAULT_BUFFER_SIZE,
                 queue_size: int = DEFAULT_QUEUE_SIZE,
                 resume_window_s: float = DEFAULT_RESUME_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.state = state
        self.buffer: deque[Frame] = deque(maxlen=max(1, buffer_size))
        self.queue_size = max(queue_size, buffer_size)
        self.resume_window_s = resume_window_s
        self.clock = clock
        self.subscriptions: set[Subscription] = set()
        self._active_until = 0.0
        self.dropped = 0

    @property
    def active(self) -> bool:
        return bool(self.subscriptions) or self.clock() < self._active_until

    # -- producing ----------------------------------------------------------------------
    def on_applied(self, entry: e.Entry, index: int) -> None:
        """The FSM's hook: runs after every applied entry."""
        if not self.subscriptions and self.clock() >= self._active_until:
            return
        events = events_from_entry(entry, self.state, index)
        if events:
            self.publish(Frame(index, [BufferedEvent(ev) for ev in events]))

    def publish(self, frame: Frame) -> None:
        self.buffer.append(frame)
        for sub in list(self.subscriptions):
            if not sub.offer(frame):
                self.dropped += 1
                self.unsubscribe(sub, "subscriber too slow: event queue full")

    # -- subscribing --------------------------------------------------------------------
    def subscribe(self, topics: dict[str, set[str]], namespace: str = "default",
                  index: int = 0) -> Subscription:
        """A new subscription, first fed the buffered frames from the first one whose index
        is at least `index` (Nomad's StartAtClosest: from the oldest if `index` is older)."""
        sub = Subscription(topics, namespace, self.queue_size)
        for frame in self.buffer:
            if frame.index >= index:
                sub.offer(frame)
        self.subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription, reason: str = "unsubscribed") -> None:
        if sub in self.subscriptions:
            self.subscriptions.discard(sub)
            sub.close(reason)
            if not self.subscriptions:
                self._active_until = self.clock() + self.resume_window_s

    def close(self) -> None:
        for sub in list(self.subscriptions):
            self.unsubscribe(sub, "event broker closed")
        self._active_until = 0.0
