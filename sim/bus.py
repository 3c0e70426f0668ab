"""Synchronous publish/subscribe for engine events, delivered in registration order.

The session kernel (``sim/session.py``) commits each batch to the journal before it publishes
it here; subscribers are screens, collectors and strategy hooks. A subscriber never calls back
into the account during a dispatch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sim.engine.events import Event

Subscriber = Callable[[Sequence[Event]], None]


class Bus:
    """Deliver each batch of events to every subscriber, in the order they subscribed."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        for subscriber in self._subscribers:
            subscriber(events)
