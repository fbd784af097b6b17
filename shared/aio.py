"""The one way the background loops pause: until one of some events is set, or a timeout."""

from __future__ import annotations

import asyncio


async def wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Returns as soon as any event is set, or after `timeout` seconds (no error either way)."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
