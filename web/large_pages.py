"""The gate of large OGC pages: one written at a time per worker, one waiting per client.

A page of 1,000 roads takes a worker thread ~0.1 s of CPU (and of the GIL). Writing one large
page at a time keeps the event loop and the small requests going while scripts page through
the roads; but a plain first-come queue let one client fill it: the rate limit takes one token
per request when it is admitted and charges the bytes only after the answer is sent, so a
burst of 400 tokens queued 400 ``limit=1000`` requests ahead of everyone else. Here each
client (``web.rate_limit.client_key``: an address, an IPv6 /64) first waits for its own
previous large page, so the shared queue holds at most one page per client and another
client's page waits behind at most one page of each client, not behind hundreds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import CapacityLimiter, Lock

__all__ = ["LargePageGate"]


class LargePageGate:
    """Let one large page be written at a time, and at most one page per client wait.

    Pages are written one at a time through :attr:`limiter` (for ``to_thread.run_sync``),
    entered by at most one page per client at a time (:meth:`client_turn`).

    Parameters
    ----------
    pages_at_once
        Large pages written at the same time in the worker.
    """

    def __init__(self, pages_at_once: int = 1) -> None:
        self.limiter = CapacityLimiter(pages_at_once)
        self._turns: dict[str, tuple[Lock, int]] = {}  # client -> (its lock, pages waiting)

    @asynccontextmanager
    async def client_turn(self, client: str) -> AsyncIterator[None]:
        """Wait until ``client`` has no other large page queued or being written.

        First come, first served among its own pages.
        """
        lock, waiting = self._turns.get(client) or (Lock(), 0)
        self._turns[client] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._turns[client]
            if waiting == 1:
                del self._turns[client]  # no page of the client left: no memory kept for it
            else:
                self._turns[client] = (lock, waiting - 1)

    def clients_waiting(self) -> int:
        """Count the clients with a large page queued or being written (tests, metrics)."""
        return len(self._turns)
