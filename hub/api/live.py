"""`/api/live`: a WebSocket streaming case events to the dashboard, resumable.

Each message is ``{"type": "case_event", "token": N, …}``; a client that
reconnects with ``?after=N`` (the last token it saw) first gets every event it
missed, from the audit log, then live ones — nothing is lost across a dropped
connection. Authenticate with the session cookie, or ``?token=`` for clients that
cannot set headers on a WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from hub.api.deps import SESSION_COOKIE, principal_for
from hub.cases.feed import CaseEvent, events_after
from hub.hub import Hub

router = APIRouter(tags=["live"])
QUEUE_LIMIT = 10_000
LIVE_ROLES = ("admin", "operator")


def _message(event: CaseEvent) -> dict[str, Any]:
    return {"type": "case_event", "token": event.id, **event.as_json()}


def _catch_up(hub: Hub, after: int) -> list[CaseEvent]:
    with hub.pool.connection() as conn:
        return events_after(conn, after, limit=5000)


@router.websocket("/api/live")
async def live(websocket: WebSocket, after: int | None = None, token: str | None = None) -> None:
    hub: Hub = websocket.app.state.hub
    try:
        principal = await run_in_threadpool(
            principal_for, hub, token or websocket.cookies.get(SESSION_COOKIE)
        )
    except HTTPException:
        await websocket.close(code=4401, reason="authentication required")
        return
    if principal.role not in LIVE_ROLES:
        await websocket.close(code=4403, reason=f"the {principal.role} role may not do this")
        return
    await websocket.accept()
    queue: asyncio.Queue[CaseEvent | None] = asyncio.Queue(QUEUE_LIMIT)
    loop = asyncio.get_running_loop()

    def offer(event: CaseEvent) -> None:
        loop.call_soon_threadsafe(_offer, queue, event)

    unsubscribe = hub.feed.listen(offer)
    try:
        await _stream(websocket, hub, queue, hub.feed.last_id if after is None else after)
    except WebSocketDisconnect:
        pass
    finally:
        unsubscribe()


def _offer(queue: asyncio.Queue[CaseEvent | None], event: CaseEvent) -> None:
    """Queue an event; a client too slow to keep up is told to reconnect with its token."""
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
        queue.put_nowait(None)  # None: the client fell behind


async def _stream(
    websocket: WebSocket, hub: Hub, queue: asyncio.Queue[CaseEvent | None], cursor: int
) -> None:
    while missed := await run_in_threadpool(_catch_up, hub, cursor):
        for old in missed:
            await websocket.send_json(_message(old))
            cursor = old.id
    while True:
        new = await queue.get()
        if new is None:
            await websocket.close(code=1013, reason=f"too slow: reconnect with after={cursor}")
            return
        if new.id > cursor:
            await websocket.send_json(_message(new))
            cursor = new.id
