"""The backend, model and voice selectors: what the next conversation connects to.

``BackendSelector`` fills the model and voice boxes for the chosen backend (the offline
backend's models come from ``app.gui.local_model_picker``; Azure's box is editable for a
deployment name) and reads the selection back. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from app.backends import BackendInfo
from app.config import Settings
from app.gui.layout import MainWindowUi
from app.gui.local_model_picker import LocalModelPicker
from app.local_models import LocalModelChoice


class BackendSelector:
    """The selector boxes of ``ui``; ``settings`` gives the window's current ``Settings``
    (the offline backend's saved brain)."""

    def __init__(
        self,
        ui: MainWindowUi,
        backends: Mapping[str, BackendInfo],
        local_models: LocalModelPicker,
        settings: Callable[[], Settings],
    ) -> None:
        self.ui = ui
        self.backends = backends
        self.local_models = local_models
        self._settings = settings

    def on_backend_changed(self, *_: object) -> None:
        ui = self.ui
        b = self.backends.get(ui.backend_box.currentData())
        ui.model_box.clear()
        ui.voice_box.clear()
        if b is None:
            return
        ui.model_box.setEditable(b.name == "azure")  # Azure: type your deployment's name
        if b.name == "local":
            self.local_models.fill(LocalModelChoice.from_settings(self._settings()))
        else:
            ui.model_box.addItems(list(b.models))
        ui.voice_box.addItems(list(b.voices))
        ui.voice_box.setEnabled(bool(b.voices))

    def on_local_models_found(self) -> None:
        if self.ui.backend_box.currentData() == "local":
            self.local_models.fill(LocalModelChoice.from_settings(self._settings()))

    def selection(self) -> tuple[str, str, str]:
        ui = self.ui
        local = ui.backend_box.currentData() == "local"
        return (
            str(ui.backend_box.currentData() or ""),
            self.local_models.model_name() if local else ui.model_box.currentText(),
            ui.voice_box.currentText(),
        )

    def restore(self, st: Settings) -> None:
        """Select the saved backend, model and voice (where the boxes offer them)."""
        ui = self.ui
        i = ui.backend_box.findData(st.backend)
        if i >= 0:
            ui.backend_box.setCurrentIndex(i)
        for value, box in ((st.model, ui.model_box), (st.voice, ui.voice_box)):
            if value:
                i = box.findText(value)
                if i >= 0:
                    box.setCurrentIndex(i)
                elif box.isEditable():  # a saved Azure deployment name
                    box.setEditText(value)
