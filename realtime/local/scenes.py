"""Image analysis of one offline-server session: each image item's ``SceneFacts``, started once.

``conversation.item.create`` starts a frame's analysis eagerly (when no other frame is being
analysed); a response or a speculative reply asks for the latest image's facts through
``scene_for``, which starts the analysis if nothing has yet. Decoding and OCR run on the shared
worker executor (OCR under ``Models.ocr_lock``), never on the event loop.

Thread: ``scene_for``/``busy`` on the server's event-loop thread; ``_analyse`` on a worker.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from realtime.local.conversation import Item
from realtime.local.models import Models, trim_memory
from realtime.local.vision import SceneFacts, TextLine, analyse, decode_image


class Scenes:
    """Starts and remembers image analyses (the future lives on the ``Item``)."""

    def __init__(self, models: Models, executor: concurrent.futures.Executor) -> None:
        self._models = models
        self._executor = executor
        self._analysing: asyncio.Future[SceneFacts] | None = None

    @property
    def busy(self) -> bool:
        """An analysis started by ``scene_for`` is still running."""
        return self._analysing is not None and not self._analysing.done()

    def scene_for(self, item: Item) -> asyncio.Future[SceneFacts]:
        """The (started) analysis of ``item``'s image. Thread: event loop."""
        if item.scene_task is None:
            assert item.image_jpeg is not None
            item.scene_task = asyncio.wrap_future(
                self._executor.submit(self._analyse, item.image_jpeg)
            )
            item.scene_task.add_done_callback(
                lambda f: f.exception() if not f.cancelled() else None
            )
            self._analysing = item.scene_task
        return item.scene_task

    def _analyse(self, jpeg: bytes) -> SceneFacts:
        """Worker: decode and analyse a frame (OCR under the shared lock)."""
        image = decode_image(jpeg)

        def ocr(img: Any) -> list[TextLine]:
            with self._models.ocr_lock:
                return self._models.ocr(img)

        facts = analyse(image, ocr)
        trim_memory()
        return facts
