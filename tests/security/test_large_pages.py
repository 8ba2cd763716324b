"""One client cannot hog the gate of large OGC pages: the shared queue holds at most one page
per client, so another client's large page waits behind one page of each, not behind the
hundreds one script can send in a rate-limit burst."""

from __future__ import annotations

import time

import anyio
from anyio import to_thread

from web.large_pages import LargePageGate

PAGE_S = 0.01


def _pages_in_order(first_client_pages: int) -> list[tuple[str, int]]:
    """Run ``first_client_pages`` large pages of client A, then one of client B, through a
    gate; the order in which they were written."""
    written: list[tuple[str, int]] = []

    async def main() -> None:
        gate = LargePageGate()

        def write(client: str, number: int) -> None:
            time.sleep(PAGE_S)  # the page's CPU, in the worker thread
            written.append((client, number))

        async def page(client: str, number: int) -> None:
            async with gate.client_turn(client):
                await to_thread.run_sync(write, client, number, limiter=gate.limiter)

        async with anyio.create_task_group() as group:
            for number in range(first_client_pages):
                group.start_soon(page, "198.51.100.1", number)
            await anyio.sleep(PAGE_S / 2)  # A's pages are all asked for, the first is written
            group.start_soon(page, "203.0.113.2", 0)
        assert gate.clients_waiting() == 0  # no memory kept for clients without pages

    anyio.run(main)
    return written


def test_a_second_clients_large_page_is_not_stuck_behind_many_of_the_first() -> None:
    written = _pages_in_order(30)
    assert len(written) == 31
    assert written.index(("203.0.113.2", 0)) <= 2  # behind A's page being written and one queued
    # A's own pages keep their order
    assert [number for client, number in written if client == "198.51.100.1"] == list(range(30))


def test_pages_are_still_written_one_at_a_time() -> None:
    active = [0]
    most = [0]

    async def main() -> None:
        gate = LargePageGate()

        def write() -> None:
            active[0] += 1
            most[0] = max(most[0], active[0])
            time.sleep(PAGE_S)
            active[0] -= 1

        async def page(client: str) -> None:
            async with gate.client_turn(client):
                await to_thread.run_sync(write, limiter=gate.limiter)

        async with anyio.create_task_group() as group:
            for number in range(8):
                group.start_soon(page, f"192.0.2.{number}")

    anyio.run(main)
    assert most[0] == 1
