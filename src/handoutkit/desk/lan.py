"""Front desk, on the network: waitress held against slow clients, and a clean stop.

Waitress reads requests in one event loop and only hands complete requests to
its threads, so a slow client costs a socket, not a thread. What it lacks is a
bound on how long a request may take to arrive: its `channel_timeout` counts
from the last byte, so a client sending one header byte every 10 s keeps its
connection for ever, and a few hundred of them fill the connection limit and
lock every desk out. Here each connection gets `read_timeout` seconds from the
first byte of a request to its last, and when the connections near their limit
the oldest ones still sending a request are closed to make room: a desk's
request, which arrives in milliseconds, is never among them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from waitress.channel import HTTPChannel
from waitress.task import WSGITask

logger = logging.getLogger("handoutkit.desk")

READ_TIMEOUT = 10.0  # seconds from the first byte of a request to its last (a form is a few KiB)
IDLE_TIMEOUT = 30.0  # a kept-alive connection with nothing to say
CONNECTION_LIMIT = 1000
ROOM = 50  # connections kept free for desks: past limit - ROOM, slow senders are closed


ARRIVED = "handoutkit.arrived"  # WSGI environ key: time.monotonic() when the request had fully arrived
PEER = "handoutkit.peer"  # WSGI environ key: the socket's other end (X-Forwarded-For cannot change it)


class TimedTask(WSGITask):
    """Tells the app when its request arrived, so a desk's wait is bounded from then, not from
    when a thread got round to it."""

    def get_environment(self) -> dict:
        environ = super().get_environment()
        environ[ARRIVED] = getattr(self.request, "arrived", None)
        addr = self.channel.addr
        environ[PEER] = addr[0] if isinstance(addr, tuple) and addr else None
        return environ


class GuardedChannel(HTTPChannel):
    """An HTTP channel that remembers when its current request started to arrive."""

    task_class = TimedTask

    request_started: float | None = None  # time.monotonic() when the request now arriving began

    def received(self, data: bytes) -> bool:
        if self.request is None:
            self.request_started = time.monotonic()
        result = super().received(data)
        if self.request is None:  # it arrived in full (or the data held no request)
            self.request_started = None
        for request in self.requests:
            if not hasattr(request, "arrived"):
                request.arrived = time.monotonic()
        return result

    def reading_for(self, now: float) -> float:
        """Seconds this channel has been receiving a request that has not arrived in full."""
        return 0.0 if self.request_started is None else now - self.request_started


def harden(server: Any, read_timeout: float = READ_TIMEOUT, room: int = ROOM) -> None:
    """Give a waitress server the read deadline and the eviction described above."""
    server.channel_class = GuardedChannel
    original = server.maintenance

    def maintenance(now: float) -> None:
        original(now)  # the idle timeout (channel_timeout)
        clock = time.monotonic()
        slow = [c for c in list(server.active_channels.values())
                if isinstance(c, GuardedChannel) and c.reading_for(clock) > read_timeout]
        for channel in slow:
            channel.will_close = True
        if slow:
            logger.warning("closed %d connection(s) that took over %.0f s to send a request", len(slow), read_timeout)

    def readable() -> bool:
        now = time.time()
        if now >= server.next_channel_cleanup:
            server.next_channel_cleanup = now + server.adj.cleanup_interval
            server.maintenance(now)
        if not server.accepting:
            return False
        if len(server._map) >= server.adj.connection_limit - room:  # noqa: SLF001 - waitress's socket map
            make_room(server, room)
        # Past the limit, waitress stops accepting until a connection closes.
        return len(server._map) < server.adj.connection_limit  # noqa: SLF001

    server.maintenance = maintenance
    server.readable = readable


def make_room(server: Any, room: int) -> None:
    """Close the connections that have sent no complete request for longest, so desks get in."""
    candidates = sorted((c for c in list(server.active_channels.values())
                         if isinstance(c, GuardedChannel) and not c.requests and not c.will_close
                         and not c.total_outbufs_len),
                        key=lambda c: c.creation_time)
    closing = candidates[:room]
    for channel in closing:
        channel.will_close = True
        channel.handle_close()
    if closing:
        logger.warning("connection limit near (%d open): closed %d connection(s) that were sending nothing "
                       "complete", len(server._map), len(closing))  # noqa: SLF001


def in_flight(server: Any) -> int:
    """Requests waitress is working on or still sending back."""
    dispatcher = server.task_dispatcher
    busy = dispatcher.active_count + len(dispatcher.queue)
    sending = sum(1 for c in list(server.active_channels.values())
                  if isinstance(c, HTTPChannel) and (c.requests or c.total_outbufs_len))
    return busy + sending


def drain(server: Any, timeout: float) -> int:
    """Stop accepting, then run the event loop until every request in progress has been answered
    (or `timeout` passes). Returns how many were still unanswered."""
    server.accepting = False
    try:
        server.del_channel()
        server.socket.close()
    except OSError:
        pass
    deadline = time.monotonic() + timeout
    while in_flight(server) and time.monotonic() < deadline:
        server.asyncore.loop(timeout=0.05, map=server._map, count=1)  # noqa: SLF001
    left = in_flight(server)
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)
    return left
