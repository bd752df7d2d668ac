"""The offline backend's entries in the window's model picker: the built-in model first, then
every model of the local model servers found on this machine (``app.local_models``).

GUI thread only, except ``_arrived``: discovery calls its ``emit`` on the discovery thread, and
the queued connection brings the result to the GUI thread (the picker lives there), so the
window never waits for the probes. ``found`` is emitted on the GUI thread once the list is in.

The items: the built-in entry's data is its model name (``"local"``); a discovered entry's
data is its ``LocalModelChoice``. A saved choice whose server is not running now stays listed
(marked "not found") so opening the window never silently switches the brain.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox

from app.local_models import (
    BUILT_IN_LABEL,
    LocalModel,
    LocalModelChoice,
)

__all__ = ["FindLocalModels", "LocalModelPicker"]

#: Starts discovery and returns at once; calls its argument with the models on any thread
#: (``app.local_models.discover_local_models``).
FindLocalModels = Callable[[Callable[[tuple[LocalModel, ...]], None]], object]
BUILT_IN_MODEL = "local"


class LocalModelPicker(QObject):
    """Fills ``box`` for the offline backend (see the module docstring)."""

    found = Signal()
    _arrived = Signal(object)  # tuple[LocalModel, ...], emitted on the discovery thread

    def __init__(
        self, box: QComboBox, find: FindLocalModels | None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.box = box
        self.models: tuple[LocalModel, ...] = ()
        self.searching = find is not None
        self._arrived.connect(self._on_arrived, Qt.ConnectionType.QueuedConnection)
        if find is not None:
            find(self._arrived.emit)

    def _on_arrived(self, models: tuple[LocalModel, ...]) -> None:
        self.models = tuple(models)
        self.searching = False
        self.found.emit()

    def fill(self, saved: LocalModelChoice | None) -> None:
        """Replace the box's items with the offline entries and select ``saved`` (None: the
        built-in model)."""
        box = self.box
        box.blockSignals(True)
        try:
            box.clear()
            box.addItem(BUILT_IN_LABEL, BUILT_IN_MODEL)
            box.setItemData(0, "The model that ships with VoiceCam", Qt.ItemDataRole.ToolTipRole)
            for m in self.models:
                key_env = saved.key_env if saved is not None and m.is_choice(saved) else ""
                box.addItem(m.label, m.choice(key_env))
            if saved is not None and not any(m.is_choice(saved) for m in self.models):
                note = "looking…" if self.searching else "not found"
                box.addItem(f"{saved.model or 'first model'} ({saved.url}, {note})", saved)
            box.setCurrentIndex(self.index_of(saved))
        finally:
            box.blockSignals(False)

    def index_of(self, saved: LocalModelChoice | None) -> int:
        if saved is None:
            return 0
        for i in range(self.box.count()):
            data = self.box.itemData(i)
            if isinstance(data, LocalModelChoice) and (data.url, data.model) == (
                saved.url,
                saved.model,
            ):
                return i
        return 0

    def chosen(self) -> LocalModelChoice | None:
        """The selected local model server's model, or None for the built-in model."""
        data = self.box.currentData()
        return data if isinstance(data, LocalModelChoice) else None

    def model_name(self) -> str:
        """The model name the conversation is started with (the server's model id)."""
        data = self.box.currentData()
        if isinstance(data, LocalModelChoice):
            return data.model or BUILT_IN_MODEL
        return data if isinstance(data, str) else self.box.currentText()
