"""The session file's SQLite schema.

A session file (``*.voicecam``) is an SQLite database. Every timestamp column ``t_ns`` is
``time.monotonic_ns()`` of the recording process; ``meta.start_mono_ns`` is the monotonic time
at which recording started, so ``(t_ns - start_mono_ns)`` is the offset into the session.
``meta`` values are JSON. Audio is PCM16 little-endian mono at the row's ``rate_hz``.

Bump ``SCHEMA_VERSION`` on any incompatible change; readers refuse newer versions.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
#: Written to ``PRAGMA application_id`` so other SQLite files are recognised as "not a session".
APPLICATION_ID = 0x56434D31  # "VCM1"
FILE_SUFFIX = ".voicecam"

TABLES: tuple[str, ...] = (
    "meta",
    "wire",
    "mic",
    "playback",
    "frames",
    "turns",
    "latency",
    "usage",
    "marks",
)

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                    -- JSON
);
-- every wire message, both directions; payload is the exact text (UTF-8) or bytes sent/received
CREATE TABLE IF NOT EXISTS wire (
    id        INTEGER PRIMARY KEY,
    t_ns      INTEGER NOT NULL,
    direction TEXT NOT NULL,               -- 'in' (from server) | 'out' (to server)
    is_binary INTEGER NOT NULL,            -- 1 when the frame was a binary WebSocket frame
    payload   BLOB NOT NULL
);
-- microphone audio as captured (after echo cancellation; raw=1 is the unprocessed mic)
CREATE TABLE IF NOT EXISTS mic (
    id      INTEGER PRIMARY KEY,
    t_ns    INTEGER NOT NULL,              -- capture time of the chunk's first sample
    rate_hz INTEGER NOT NULL,
    raw     INTEGER NOT NULL,
    pcm     BLOB NOT NULL
);
-- reply audio as actually played
CREATE TABLE IF NOT EXISTS playback (
    id          INTEGER PRIMARY KEY,
    t_ns        INTEGER NOT NULL,          -- time the chunk's first sample was played
    item_id     TEXT NOT NULL,
    rate_hz     INTEGER NOT NULL,
    position_ms INTEGER NOT NULL,          -- position of the chunk's first sample in the item
    pcm         BLOB NOT NULL
);
-- camera/screen frames: sent=1 went to the model, sent=0 low-rate preview for context
CREATE TABLE IF NOT EXISTS frames (
    id     INTEGER PRIMARY KEY,
    t_ns   INTEGER NOT NULL,
    sent   INTEGER NOT NULL,
    reason TEXT NOT NULL,
    jpeg   BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id         INTEGER PRIMARY KEY,
    t_ns       INTEGER NOT NULL,           -- when the turn was recorded
    role       TEXT NOT NULL,              -- 'user' | 'assistant'
    item_id    TEXT NOT NULL,
    text       TEXT NOT NULL,
    t_start_ns INTEGER,                    -- speech/playback start, NULL if unknown
    t_end_ns   INTEGER,                    -- speech/playback end, NULL if unknown
    source     TEXT NOT NULL,              -- 'voice' | 'text'
    status     TEXT NOT NULL               -- 'completed' | 'interrupted' | ...
);
CREATE TABLE IF NOT EXISTS latency (
    id       INTEGER PRIMARY KEY,
    t_ns     INTEGER NOT NULL,
    item_id  TEXT NOT NULL,                -- the assistant item the figure belongs to
    metric   TEXT NOT NULL,                -- e.g. 'speech_end_to_first_audio'
    value_ms REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS usage (
    id                  INTEGER PRIMARY KEY,
    t_ns                INTEGER NOT NULL,
    response_id         TEXT NOT NULL,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    input_text_tokens   INTEGER NOT NULL,
    input_audio_tokens  INTEGER NOT NULL,
    input_image_tokens  INTEGER NOT NULL,
    input_cached_tokens INTEGER NOT NULL,
    output_text_tokens  INTEGER NOT NULL,
    output_audio_tokens INTEGER NOT NULL,
    cost_usd            REAL                -- NULL when unknown
);
-- things that happened to the session: reconnects, errors, recording paused
CREATE TABLE IF NOT EXISTS marks (
    id     INTEGER PRIMARY KEY,
    t_ns   INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""

USAGE_FIELDS: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "input_text_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "input_cached_tokens",
    "output_text_tokens",
    "output_audio_tokens",
)
