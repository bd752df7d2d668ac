"""The settings dialog's "Cloud" tab: endpoints (issue 13, item 1) and provider options (item 3).

GUI thread only. ``CloudTab(settings).values()`` returns the fields it edits, for
``dataclasses.replace(settings, **values)``; validation is ``Settings``' own (a bad URL keeps
the dialog open with the message).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from app.config import Settings
from app.model_catalog import models_for
from app.provider_options import (
    MAX_IDLE_TIMEOUT_MS,
    REASONING_EFFORTS,
    media_resolution_label,
)

__all__ = ["CloudTab"]

NOISE_LABELS = (
    ("Automatic (headset: near, laptop or room microphone: far)", "auto"),
    ("Near field (headset)", "near"),
    ("Far field (laptop or room microphone)", "far"),
    ("Off", "off"),
)
EAGERNESS_LABELS = (
    ("Automatic", "auto"),
    ("Low (waits longer)", "low"),
    ("Medium", "medium"),
    ("High (answers sooner)", "high"),
)


def _combo(items: Sequence[tuple[str, str]], current: str, name: str) -> QComboBox:
    box = QComboBox()
    box.setAccessibleName(name)
    for label, data in items:
        box.addItem(label, data)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


def _line(text: str, placeholder: str, name: str) -> QLineEdit:
    edit = QLineEdit(text)
    edit.setPlaceholderText(placeholder)
    edit.setAccessibleName(name)
    return edit


class CloudTab(QWidget):
    """Where OpenAI, Gemini and Azure connect, and what each provider is asked for."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        st = settings
        form = QFormLayout(self)
        form.setContentsMargins(14, 14, 14, 14)
        form.setVerticalSpacing(10)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.openai_url = _line(st.openai_url, "api.openai.com (or a proxy's /v1)", "OpenAI URL")
        self.gemini_url = _line(st.gemini_url, "Google (or a gateway)", "Gemini URL")
        self.vertex_project = _line(st.vertex_project, "empty: the Gemini API", "Vertex AI project")
        self.vertex_location = _line(st.vertex_location, "us-central1", "Vertex AI location")
        self.azure_endpoint = _line(
            st.azure_endpoint, "https://NAME.openai.azure.com", "Azure OpenAI endpoint"
        )
        self.azure_api_version = _line(
            st.azure_api_version, "empty: the GA v1 API", "Azure API version"
        )
        form.addRow("OpenAI URL", self.openai_url)
        form.addRow("Gemini URL", self.gemini_url)
        form.addRow("Vertex AI project", self.vertex_project)
        form.addRow("Vertex AI location", self.vertex_location)
        form.addRow("Azure endpoint", self.azure_endpoint)
        form.addRow("Azure API version", self.azure_api_version)

        self.noise_box = _combo(NOISE_LABELS, st.noise_reduction, "Noise reduction")
        self.eagerness_box = _combo(EAGERNESS_LABELS, st.vad_eagerness, "Semantic VAD eagerness")
        self.idle_spin = QSpinBox()
        self.idle_spin.setRange(0, MAX_IDLE_TIMEOUT_MS)
        self.idle_spin.setSingleStep(1000)
        self.idle_spin.setSuffix(" ms")
        self.idle_spin.setSpecialValueText("Off")
        self.idle_spin.setValue(st.idle_timeout_ms)
        self.idle_spin.setAccessibleName("Idle timeout")
        form.addRow("OpenAI noise reduction", self.noise_box)
        form.addRow("OpenAI semantic VAD", self.eagerness_box)
        form.addRow("OpenAI idle timeout", self.idle_spin)
        self.reasoning_box = _combo(
            [(e.capitalize() if e != "default" else "Model default", e) for e in REASONING_EFFORTS],
            st.reasoning_effort,
            "Reasoning effort",
        )
        self.reasoning_box.setToolTip("gpt-realtime-2 and newer: less effort answers sooner")
        form.addRow("OpenAI reasoning effort", self.reasoning_box)

        gemini_model = st.model if st.backend == "gemini" and st.model else models_for("gemini")[0]
        self.resolution_box = _combo(
            [
                (media_resolution_label(gemini_model, c), c)
                for c in ("default", "low", "medium", "high")
            ],
            st.media_resolution,
            "Gemini media resolution",
        )
        self.compression_check = QCheckBox(
            "Compress old context (without it, a session with video ends after 2 minutes)"
        )
        self.compression_check.setChecked(st.context_compression)
        self.proactive_check = QCheckBox("Proactive audio: answer only when addressed")
        self.proactive_check.setChecked(st.proactive_audio)
        self.affective_check = QCheckBox("Affective dialog: adapt to the tone of voice")
        self.affective_check.setChecked(st.affective_dialog)
        note = QLabel("Proactive audio and affective dialog: Gemini 2.5 native-audio models only.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        form.addRow("Gemini frames", self.resolution_box)
        form.addRow("", self.compression_check)
        form.addRow("", self.proactive_check)
        form.addRow("", self.affective_check)
        form.addRow("", note)

    def values(self) -> dict[str, str | int | bool]:
        """The edited fields, for ``replace(settings, **values)``."""
        return {
            "openai_url": self.openai_url.text().strip(),
            "gemini_url": self.gemini_url.text().strip(),
            "vertex_project": self.vertex_project.text().strip(),
            "vertex_location": self.vertex_location.text().strip(),
            "azure_endpoint": self.azure_endpoint.text().strip(),
            "azure_api_version": self.azure_api_version.text().strip(),
            "noise_reduction": self.noise_box.currentData(),
            "vad_eagerness": self.eagerness_box.currentData(),
            "idle_timeout_ms": self.idle_spin.value(),
            "media_resolution": self.resolution_box.currentData(),
            "context_compression": self.compression_check.isChecked(),
            "proactive_audio": self.proactive_check.isChecked(),
            "affective_dialog": self.affective_check.isChecked(),
            "reasoning_effort": self.reasoning_box.currentData(),
        }
