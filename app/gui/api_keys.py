"""The API keys of the Settings dialog: one row per provider, and the keyring behind them.

Keys go ONLY to the OS keyring through ``app.secrets`` (service ``voicecam``, user = the
provider) and are never shown again in full: a saved key is displayed as ``sk-…1234``. A key
in the environment wins and is said so. ``read_saved_keys`` and ``write_key`` block (D-Bus
Secret Service): the dialog runs them on its worker; ``KeyRow`` is GUI thread only.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.secrets import (
    KeyringUnavailable,
    delete_key,
    keyring_unavailable_text,
    masked,
    saved_key,
    store_key,
)

#: provider → the environment variable people know it by
PROVIDERS = {
    "openai": "OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
}


def mask_key(key: str) -> str:
    """``sk-proj-abcdef1234`` → ``sk-…1234`` (``app.secrets.masked``)."""
    return masked(key)


def read_saved_keys() -> dict[str, str | None]:
    """Worker thread: the saved key of each provider (``KeyringUnavailable`` if the keyring is
    unusable, whatever its backend raised)."""
    try:
        return {p: saved_key(p) for p in PROVIDERS}
    except KeyringUnavailable:
        raise
    except Exception as exc:  # a keyring backend's own error types (D-Bus, locked wallet, ...)
        raise KeyringUnavailable(keyring_unavailable_text()) from exc


def write_key(provider: str, key: str | None) -> None:
    if key:
        store_key(provider, key)
    else:
        delete_key(provider)


class KeyRow(QWidget):
    """One provider's API key: a password field, the masked saved key, Remove."""

    def __init__(self, provider: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.provider = provider
        self.env_name = PROVIDERS[provider]
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        row = QHBoxLayout()
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setAccessibleName(f"New {self.env_name}")
        self.edit.setPlaceholderText("Paste a key to save it")
        self.remove = QPushButton("Remove")
        self.remove.setAccessibleName(f"Remove the saved {provider} key")
        row.addWidget(self.edit, 1)
        row.addWidget(self.remove)
        lay.addLayout(row)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.saved_mask: str | None = None
        self.remove_requested = False
        self.remove.clicked.connect(self._on_remove)
        self.set_saved(None)

    def set_saved(self, key: str | None) -> None:
        self.saved_mask = mask_key(key) if key else None
        env = os.environ.get(self.env_name)
        if env:
            text = f"Using {self.env_name} from the environment: {mask_key(env)}"
            if self.saved_mask:
                text += f" (keyring: {self.saved_mask})"
        elif self.saved_mask:
            text = f"Saved in the system keyring: {self.saved_mask}"
        else:
            text = f"Not set. Paste a key, or set {self.env_name} in the environment."
        self.status.setText(text)
        self.remove.setEnabled(bool(self.saved_mask))

    def _on_remove(self) -> None:
        self.remove_requested = True
        self.edit.clear()
        self.status.setText("Will be removed from the keyring when you press OK")
        self.remove.setEnabled(False)

    def pending_change(self) -> tuple[bool, str | None]:
        """(changed, new key or None to delete)."""
        new = self.edit.text().strip()
        if new:
            return True, new
        if self.remove_requested:
            return True, None
        return False, None
