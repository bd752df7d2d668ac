"""``Subscribers``: who listens to a source of ``app.model.ModelEvent`` values.

The one registry behind ``Assistant.subscribe`` and the GUI adapter's ``subscribe`` (they were
two copies of the same list-under-a-lock).
"""

from __future__ import annotations

import logging
import threading

from app.model import ModelEvent, ModelListener

_log = logging.getLogger(__name__)


class Subscribers:
    """The listeners of one model-event source. ``subscribe``/``unsubscribe`` from any thread
    (a listener is held once); ``publish`` calls each listener on the caller's thread, in
    subscription order, with the list as it was when the call began. A listener that raises is
    logged and the others still get the event (a view's bug must not stop the conversation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[ModelListener] = []

    def subscribe(self, listener: ModelListener) -> None:
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)

    def unsubscribe(self, listener: ModelListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def publish(self, event: ModelEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                _log.exception("subscriber %r failed on %s", listener, type(event).__name__)
