"""The offline backend's model picker lists the models of a REAL local model server
(``llama_cpp.server`` serving SmolLM2 on 127.0.0.1), found without blocking the GUI thread;
choosing one saves it and makes the composition root start the offline server with it.

The window runs on the real ``AssistantAdapter`` and ``Assistant``; only the session is the
in-process scripted one (``tests.app.fakes``), and ``resolve`` calls the real
``app.compose.build_backend`` with the server the adapter built, then records what it got."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.compose import build_backend
from app.config import Settings
from app.gui.adapter import AssistantAdapter
from app.gui.main import build_window
from app.local_models import BUILT_IN_LABEL, LocalModelChoice, discover_local_models
from app.model import State
from tests.app.fakes import FakeAudio, FakeSpec
from tests.realtime.local.llm_server import MODEL_ALIAS, LlamaServer, free_port

pytestmark = pytest.mark.gui


@pytest.fixture
def rig(
    qtbot, qsettings, memory_keyring, config_dir, tmp_path: Path, media_dir: Path, llama_server
):
    built: list[tuple[str, str, tuple[str, ...]]] = []
    threads: list[str] = []

    def resolve(settings: Settings, **kw):  # type: ignore[no-untyped-def]
        backend = build_backend(settings, local_server=kw["local_server"])
        assert backend.server is not None
        built.append((backend.name, backend.model, backend.server.extra_args))
        return FakeSpec(name=backend.name, model=backend.model)

    def source(_spec: str):  # type: ignore[no-untyped-def]
        from video.file import FileSource

        return FileSource(str(media_dir / "video" / "desk.png"), loop=True, still_fps=5.0)

    def find(on_done):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        ports = [(free_port(), "vLLM"), (llama_server.port, "llama.cpp server")]
        return discover_local_models(on_done, ports=ports, timeout_s=2.0)

    saved: list[Settings] = []
    settings = Settings(recording=False, camera_on=False)
    adapter = AssistantAdapter(
        settings, resolve=resolve, make_audio=lambda s, rate: FakeAudio(), make_source=source
    )
    w = build_window(
        adapter, qsettings, settings, save_settings=saved.append, find_local_models=find
    )
    qtbot.addWidget(w)
    w.show()
    yield w, adapter, built, threads, saved
    w.close()
    adapter.close()


def _connect_and_stop(qtbot, w, adapter: AssistantAdapter) -> None:  # type: ignore[no-untyped-def]
    w.toggle_connection()
    qtbot.waitUntil(lambda: w.conversation_state == State.LISTENING, timeout=20000)
    w.toggle_connection()
    qtbot.waitUntil(lambda: w.conversation_state == State.IDLE, timeout=20000)
    for t in list(adapter._workers):
        t.join(20)


def test_picker_lists_the_found_model_and_choosing_it_starts_the_server_with_it(
    rig, qtbot, llama_server: LlamaServer
) -> None:
    w, adapter, built, threads, saved = rig
    box = w.ui.model_box
    assert threads == [threading.current_thread().name]  # started from the GUI thread …
    assert w.ui.backend_box.currentData() == "local"
    # … and the window is up before the answer: the built-in model is listed (and chosen).
    assert box.itemText(0) == BUILT_IN_LABEL
    qtbot.waitUntil(lambda: box.count() == 2, timeout=20000)
    label = f"{MODEL_ALIAS} (llama.cpp server, port {llama_server.port})"
    assert [box.itemText(i) for i in range(box.count())] == [BUILT_IN_LABEL, label]
    assert box.currentIndex() == 0 and w.selection()[1] == "local"

    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Down)  # the user picks it (emits ``activated``)
    assert box.currentText() == label
    want = ("--llm-url", llama_server.base_url, "--llm-model", MODEL_ALIAS)
    current = w.current_settings()
    assert (current.llm_url, current.llm_model, current.llm_vision) == (
        llama_server.base_url,
        MODEL_ALIAS,
        True,
    )
    assert adapter.settings.llm_url == llama_server.base_url  # applied at once
    _connect_and_stop(qtbot, w, adapter)
    assert built == [("local", MODEL_ALIAS, want)]

    # Another backend and back: the choice stays selected.
    w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData("openai"))
    w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData("local"))
    assert box.currentText() == label

    # The built-in model again: a new offline server, without the extra arguments.
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert box.currentText() == BUILT_IN_LABEL
    _connect_and_stop(qtbot, w, adapter)
    assert built[-1] == ("local", "local", ())

    # The choice is a saved setting.
    qtbot.keyClick(box, Qt.Key.Key_Down)
    w.save_state()
    qtbot.waitUntil(lambda: bool(saved), timeout=10000)
    assert LocalModelChoice.from_settings(saved[-1]) == LocalModelChoice(
        llama_server.base_url, MODEL_ALIAS
    )


def test_a_saved_choice_is_selected_and_kept_when_its_server_is_gone(
    qtbot, qsettings, config_dir, llama_server: LlamaServer
) -> None:
    gone = LocalModelChoice(f"http://127.0.0.1:{free_port()}/v1", "llama3.2")
    for choice, text in (
        (LocalModelChoice(llama_server.base_url, MODEL_ALIAS), MODEL_ALIAS + " (llama.cpp"),
        (gone, "llama3.2 (http://127.0.0.1:"),
    ):
        settings = Settings(recording=False, llm_url=choice.url, llm_model=choice.model)
        find = functools.partial(
            discover_local_models,
            ports=[(llama_server.port, "llama.cpp server")],
            timeout_s=2.0,
        )
        adapter = AssistantAdapter(settings)
        w = build_window(adapter, qsettings, settings, save_settings=None, find_local_models=find)
        qtbot.addWidget(w)
        try:
            qtbot.waitUntil(lambda w=w: not w.local_models.searching, timeout=20000)
            assert w.ui.model_box.currentText().startswith(text)
            assert w.local_models.chosen() == choice
            assert w.current_settings().llm_url == choice.url
        finally:
            w.close()
            adapter.close()
