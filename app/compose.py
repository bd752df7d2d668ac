"""The one composition root: everything a conversation needs, built from ``Settings``.

Precedence of a setting (highest first)::

    explicit overrides (command-line flags, a dialog) > environment (VOICECAM_<FIELD>) >
    the settings file (app.config.Settings.load(), VOICECAM_CONFIG_DIR) > built-in defaults

``resolve_settings(overrides)`` applies it (``app.settings_resolve``, re-exported here); every
front end — the window (``app.gui.adapter``), ``voicecam --headless`` (``app.cli``) and
``voicecam rerun`` — then builds its parts with the builders below, so they cannot drift apart:
the headless CLI honours the saved echo cancellation, voice detection and frame pacing like the
window does, and every recording has the same metadata.

Environment: ``VOICECAM_<FIELD>`` for any ``Settings`` field (``VOICECAM_BACKEND=openai``,
``VOICECAM_AEC=off``, ``VOICECAM_VAD_SENSITIVITY=0.7``, ``VOICECAM_CAMERA_ON=false``); a value of
the wrong type raises ``SettingsError`` naming the variable. The providers' conventions
(``OPENAI_BASE_URL``, ``AZURE_OPENAI_ENDPOINT`` …, ``app.endpoints.env_conventions``) sit at the
environment level below ``VOICECAM_<FIELD>``. API keys never pass through here
(``app.secrets``).

Threads: builders may block (device enumeration, opening the recording file, starting the
offline server in ``Assembly.backend.prepare``); call them off the GUI thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from app.backends import Backend, resolve
from app.config import Settings
from app.day_spend import DaySpend, budget_limits, spend_path
from app.endpoints import URL_FIELDS, CloudEndpoints
from app.file_audio import FileAudio
from app.frames import FrameFeed
from app.local_models import server_args
from app.local_server import LocalServer
from app.model_catalog import session_cap_s
from app.modes import ConversationOptions, for_backend
from app.ports import AudioPort, ConnectSpec
from app.recording_notes import RecordingNotices
from app.redaction import build_redactor, parse_exclude_region, parse_exclude_windows
from app.retention import discard_if_empty
from app.session_search import session_index
from app.settings_resolve import ENV_PREFIX, SettingValue, resolve_settings, settings_from_env
from audio.client_turns import ClientTurnEnd, turn_transcriber
from audio.config import AudioConfig
from audio.engine import AudioEngine
from dsp.snippet_stt import SnippetTranscriber
from dsp.text_end import TextEndScorer
from realtime.budget import Limits
from realtime.recording.errors import RecordingError, SessionFileError
from realtime.recording.resilient import RecorderFactory, ResilientRecorder
from realtime.recording.search import SearchIndex
from realtime.recording.writer import SessionRecorder
from video.source import FrameSource

__all__ = [
    "ENV_PREFIX",
    "Assembly",
    "SettingValue",
    "apply_redaction",
    "assemble",
    "build_audio",
    "build_backend",
    "build_budget",
    "build_day_spend",
    "build_file_audio",
    "build_frames",
    "build_local_server",
    "build_recorder",
    "open_camera",
    "open_file_video",
    "open_video",
    "recording_metadata",
    "resolve_settings",
    "settings_from_env",
]


# ---------------------------------------------------------------------- builders


def build_backend(
    settings: Settings,
    *,
    reconnect: bool = True,
    local_server: LocalServer | None = None,
    video: bool | None = None,
) -> Backend:
    """The backend named by the settings (``BackendError`` for a bad name). ``local_server``:
    the app's one offline server (the window keeps one for its lifetime; build it with
    ``build_local_server``); without one, the offline backend starts its own with the
    settings' brain (``llm_url`` …, see ``app.local_models``). ``video``: whether frames are
    sent (default: ``settings.camera_on``), for the session limit of a cloud model
    (``app.model_catalog.session_cap_s``: a Gemini video session without compression ends after
    2 minutes, and the window counts it down)."""
    backend = resolve(
        settings.backend,
        settings.model,
        settings.voice,
        reconnect=reconnect,
        local_server=local_server,
        server_args=server_args(settings),
        endpoints=CloudEndpoints.of(settings),
    )
    sends_video = settings.camera_on if video is None else video
    cap = session_cap_s(backend.model, compression=settings.context_compression, video=sends_video)
    if backend.name in URL_FIELDS and cap is not None:  # a cloud backend with a known model
        backend.session_cap_s = cap
    return backend


def build_local_server(settings: Settings) -> LocalServer:
    """The offline server (not started) with the settings' brain: the built-in model, or
    ``--llm-url URL --llm-model ID [--llm-no-vision] [--llm-key-env VAR]`` for a local model
    server. Its ``extra_args`` tell whether a later choice needs a new one."""
    return LocalServer(server_args(settings))


def audio_config(settings: Settings, *, send_rate_hz: int) -> AudioConfig:
    """The audio engine's configuration: devices, echo cancellation, voice detection."""
    return AudioConfig(
        input_device=settings.input_device or None,
        output_device=settings.output_device or None,
        send_rate_hz=send_rate_hz,
        headphones=settings.aec == "headphones",
        echo_cancellation=settings.aec != "off",
        vad_sensitivity=settings.vad_sensitivity,
    )


def build_audio(settings: Settings, *, send_rate_hz: int) -> AudioEngine:
    """The microphone + speaker engine (not started): ducks on a voice onset, then tells an
    interruption from a backchannel with Whisper tiny (loaded on the first snippet); with
    client turn detection, the turn model ends hands-free turns (``build_turn_end``)."""
    return AudioEngine(
        audio_config(settings, send_rate_hz=send_rate_hz),
        judge_interruptions=True,
        transcriber=SnippetTranscriber(),
        end_of_turn=build_turn_end(settings),
    )


def build_turn_end(settings: Settings) -> ClientTurnEnd | None:
    """Client turn detection's semantic end of turn at the settings' patience (None for the
    provider's detection). Medium (the default) and high patience also read the words: Whisper
    tiny, then SmolLM2 on whether they are finished (1 of the 16 shared paused questions cut
    instead of 14; ``bench/bench_audio.py --only 9``); low patience is Smart Turn alone: the
    quickest and cheapest, and it cuts a pause after a finished-sounding phrase."""
    if settings.turn_detection != "client":
        return None
    options = settings.options()
    if options.patience == "low":
        return ClientTurnEnd(options.eagerness)
    return ClientTurnEnd(options.eagerness, words=turn_transcriber(), scorer=TextEndScorer())


def build_file_audio(
    audio_in: Path | None,
    audio_out: Path | None,
    *,
    send_rate_hz: int,
    settings: Settings | None = None,
) -> FileAudio:
    """A WAV file as the microphone (paced in real time) and/or a WAV file as the speaker; with
    ``settings``, their client turn detection ends its turns (``build_turn_end``)."""
    turns = build_turn_end(settings) if settings is not None and audio_in is not None else None
    return FileAudio(audio_in, audio_out, send_rate_hz=send_rate_hz, end_of_turn=turns)


def open_video(spec: str, settings: Settings | None = None) -> FrameSource:
    """A camera, file, stream or screen source from its spec (``"0"``, ``clip.mp4``,
    ``screen:1`` …); ValueError lists the accepted forms. A screen source hides the settings'
    ``exclude_windows`` / ``exclude_region`` in every grab (``app.redaction``)."""
    from video.factory import open_source

    if settings is None:
        return open_source(spec)
    region = parse_exclude_region(settings.exclude_region)
    return open_source(
        spec,
        exclude_windows=parse_exclude_windows(settings.exclude_windows),
        exclude_regions=(region,) if region is not None else (),
    )


def open_file_video(path: Path) -> FrameSource:
    """A still image or video file shown as the camera, looped."""
    from video.file import FileSource

    return FileSource(path, loop=True, still_fps=5.0)


def open_camera(name: str) -> FrameSource:
    """A camera by index (``"0"``), name or stream URL."""
    from video.camera import CameraSource

    return CameraSource(int(name) if name.isdigit() else name)


def build_frames(source: FrameSource, settings: Settings) -> FrameFeed:
    """The frame feed to the model, paced by the saved policy and budget, blurring faces when
    the settings ask for it on this backend (``apply_redaction``)."""
    return FrameFeed(
        source,
        settings.pacer_config(),
        redactor=build_redactor(settings.blur_faces, settings.backend),
    )


def apply_redaction(feed: FrameFeed, settings: Settings) -> None:
    """Blur faces in ``feed``'s frames from the next one on iff the settings ask for it on
    their backend (a feed kept across connects follows the backend chosen for each)."""
    feed.set_redactor(build_redactor(settings.blur_faces, settings.backend))


def build_budget(settings: Settings) -> Limits:
    """The spend limits (``budget_session_usd`` / ``budget_day_usd``; ``--budget`` sets the
    first): ``app.core_budget`` warns at 80 % and stops audio and frames at 100 %."""
    return budget_limits(settings)


def build_day_spend() -> DaySpend:
    """Today's spend, kept in the settings folder so the daily budget survives restarts."""
    return DaySpend(spend_path())


def recording_metadata(spec: ConnectSpec, **extra: object) -> dict[str, object]:
    """The one metadata every recording starts with (never a secret)."""
    return {
        "backend": spec.name,
        "model": spec.model,
        "voice": spec.voice,
        "input_rate_hz": spec.input_rate_hz,
        "mic_rate_hz": 16000,
        "free": spec.free,
        **extra,
    }


def build_recorder(
    settings: Settings,
    spec: ConnectSpec,
    *,
    directory: Path | None = None,
    notices: RecordingNotices | None = None,
    **metadata: object,
) -> ResilientRecorder:  # an app.ports.RecordingPort
    """A conversation's recording in ``directory`` (default: the settings' recordings folder).

    Never raises for the folder or the disk: the recorder creates the folder and its missing
    parents 0700 itself; a folder that cannot be written, or a full disk, is reported through
    ``notices.on_error`` (with ``notices.retry_hint``, or "resumes once space is freed"), and
    after a full disk recording resumes into a new file (``notices.on_resumed``). The
    conversation goes on either way (issue 17, items 1-3, 7)."""
    folder = directory if directory is not None else settings.recordings_path()
    notices = notices or RecordingNotices()
    return ResilientRecorder(
        folder,
        metadata=recording_metadata(spec, **metadata),
        on_error=notices.on_error,
        on_resumed=notices.on_resumed,
        retry_hint=notices.retry_hint,
        make=_indexed_recorder(folder if _is_sessions_folder(folder, settings) else None),
    )


def _is_sessions_folder(folder: Path, settings: Settings) -> bool:
    """The app's sessions folder (the window's, ``voicecam search``'s default) is indexed as
    sessions are written; another ``--record`` folder is indexed when it is first searched
    (``voicecam search --folder``), so its disk holds only the sessions meanwhile."""
    try:
        return folder.expanduser().resolve() == settings.recordings_path().resolve()
    except OSError:
        return False


def _indexed_recorder(folder: Path | None) -> RecorderFactory:
    """Session recorders that feed ``folder``'s search index as turns are written. Without
    an index (no folder, or it cannot hold one) they record all the same; ``voicecam search``
    and the Sessions browser index the file when they next sync."""
    index: SearchIndex | None = None
    if folder is not None:
        with contextlib.suppress(SessionFileError):
            index = session_index(folder)

    def make(
        *,
        directory: Path,
        metadata: Mapping[str, object],
        on_error: Callable[[RecordingError], None],
    ) -> SessionRecorder:
        return SessionRecorder(
            directory=directory, metadata=metadata, on_error=on_error, search_index=index
        )

    return make


# ---------------------------------------------------------------------- a whole assistant


@dataclass
class Assembly:
    """The parts of one conversation, and who stops what. ``close()`` after the assistant."""

    settings: Settings
    backend: Backend
    options: ConversationOptions
    audio: AudioPort | None = None
    frames: FrameFeed | None = None
    recorder: ResilientRecorder | None = None
    budget: Limits | None = None
    day_spend: DaySpend | None = None

    def close(self) -> None:
        """Close the recording and stop the offline server if the backend owns it."""
        if self.recorder is not None:
            self.recorder.close()
            discard_if_empty(self.recorder.path)  # a failed connect leaves no empty session
        self.backend.close()


def assemble(
    settings: Settings,
    *,
    reconnect: bool = True,
    local_server: LocalServer | None = None,
    make_audio: Callable[[int], AudioPort] | None = None,
    frames_source: FrameSource | None = None,
    record_to: Path | None = None,
    recording_notices: RecordingNotices | None = None,
) -> Assembly:
    """Backend, options, audio (the settings' devices, unless ``make_audio(send_rate_hz)``
    builds another port), frames (only with a ``frames_source``), a recorder (only with
    ``record_to``; its failures and resumptions go to ``recording_notices``), the spend limits
    and today's spend."""
    backend = build_backend(
        settings,
        reconnect=reconnect,
        local_server=local_server,
        video=frames_source is not None,
    )
    options = for_backend(settings.options(), backend.name)
    audio: AudioPort
    if make_audio is not None:
        audio = make_audio(backend.input_rate_hz)
    else:
        audio = build_audio(settings, send_rate_hz=backend.input_rate_hz)
    frames = build_frames(frames_source, settings) if frames_source is not None else None
    recorder = (
        build_recorder(settings, backend, directory=record_to, notices=recording_notices)
        if record_to
        else None
    )
    return Assembly(
        settings=settings,
        backend=backend,
        options=options,
        audio=audio,
        frames=frames,
        recorder=recorder,
        budget=build_budget(settings),
        day_spend=build_day_spend(),
    )
