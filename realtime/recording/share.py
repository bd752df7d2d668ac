"""Export one session as a single file to share, with the key scrub verified.

``export_session(src, out, secrets=(...))`` writes ``out`` (``*.voicecam``): a self-contained
SQLite session file (no ``-wal``/``-shm`` side files) that VoiceCam opens like any other
session. On the way:

1. the session is copied with SQLite's backup API (consistent even while being recorded);
2. every text and blob cell of every table is scrubbed again (key shapes and the exact
   ``secrets`` given — the API keys the app knows — also in base64); the unprocessed
   microphone track is dropped unless ``include_raw_mic``, the wire log unless
   ``include_wire``;
3. ``VACUUM`` rewrites the file so no freed page keeps an old, unscrubbed value;
4. **verification**: every cell of every table must be unchanged by a further scrub, and the
   raw bytes of the file must not contain any of ``secrets`` (as UTF-8, or base64-encoded);
   the file must open as a session. Any failure deletes the partial file and raises
   :class:`ExportError` naming what was found (never the secret itself).

Only then is the file renamed to ``out`` (never half-written). Qt-free; call from a worker
thread.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from realtime.recording import schema
from realtime.recording.errors import SessionFileError
from realtime.recording.reader import SessionFile
from realtime.recording.scrub import REDACTED, Scrubber

__all__ = ["ExportError", "ExportReport", "export_session", "verify_scrubbed"]


class ExportError(Exception):
    """The session could not be exported; ``str()`` names the file and what to do."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    size_bytes: int
    #: Cells changed by the export's scrub (0 for a session recorded by VoiceCam).
    scrubbed_cells: int
    #: Cells checked during verification.
    verified_cells: int


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not str(r[0]).startswith("sqlite_")
    ]


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')]


def _scrub_cell(scrubber: Scrubber, value: object, encoded: tuple[bytes, ...] = ()) -> object:
    """The cell scrubbed: key shapes and exact secrets, then the ``encoded`` (base64) forms."""
    if isinstance(value, str):
        text = scrubber.text(value)
        for form in encoded:
            text = text.replace(form.decode("ascii"), REDACTED)
        return text
    if isinstance(value, bytes):
        data = scrubber.data(value)
        for form in encoded:
            data = data.replace(form, REDACTED.encode())
        return data
    return value


def _secret_forms(secrets: tuple[str, ...]) -> list[bytes]:
    forms: list[bytes] = []
    for s in secrets:
        if len(s) < 6:
            continue
        raw = s.encode("utf-8")
        forms.append(raw)
        forms.append(base64.b64encode(raw).rstrip(b"="))
    return forms


def verify_scrubbed(path: Path, secrets: tuple[str, ...] = ()) -> int:
    """Check a session file holds no key: every cell is a fixed point of the scrubber and the
    raw bytes contain none of ``secrets``. Returns the number of cells checked; raises
    ExportError otherwise."""
    scrubber = Scrubber(list(secrets))
    checked = 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table in _tables(conn):
            cols = _columns(conn, table)
            for row in conn.execute(
                "SELECT " + ", ".join(f'"{c}"' for c in cols) + f' FROM "{table}"'
            ):
                for col, value in zip(cols, row):
                    checked += 1
                    if _scrub_cell(scrubber, value) != value:
                        raise ExportError(
                            f"{path}: a key-shaped value is still in {table}.{col}; the export "
                            "was not written. Report this as a bug."
                        )
    finally:
        conn.close()
    data = path.read_bytes()
    for i, form in enumerate(_secret_forms(secrets)):
        if form in data:
            kind = "base64-encoded " if i % 2 else ""
            raise ExportError(
                f"{path}: a {kind}API key is still in the file's bytes; the export was not "
                "written. Report this as a bug."
            )
    return checked


def export_session(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    secrets: tuple[str, ...] | list[str] = (),
    include_wire: bool = True,
    include_raw_mic: bool = False,
) -> ExportReport:
    """Write the shareable copy of session ``src`` to ``out`` (see module docstring).
    Raises ExportError (bad source, ``out`` exists or is not writable, verification failed)."""
    source, target = Path(src), Path(out)
    secret_list = tuple(s for s in secrets if s)
    if target.suffix != schema.FILE_SUFFIX:
        raise ExportError(f"{target}: the shared file must end in {schema.FILE_SUFFIX}")
    if target.exists():
        raise ExportError(f"{target}: already exists; choose another name")
    try:
        with SessionFile(source, check=True):
            pass
    except SessionFileError as exc:
        raise ExportError(f"cannot export: {exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    scrubber = Scrubber(list(secret_list))
    encoded = tuple(_secret_forms(secret_list)[1::2])
    changed = 0
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        src_conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=5.0)
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src_conn.backup(dst)
        finally:
            src_conn.close()
        try:
            dst.execute("PRAGMA journal_mode=DELETE")
            dst.execute("PRAGMA secure_delete=ON")
            dst.execute("BEGIN")
            if not include_raw_mic:
                dst.execute("DELETE FROM mic WHERE raw != 0")
            if not include_wire:
                dst.execute("DELETE FROM wire")
            for table in _tables(dst):
                cols = _columns(dst, table)
                rows = dst.execute(f'SELECT rowid, * FROM "{table}"').fetchall()
                for row in rows:
                    for col, value in zip(cols, row[1:]):
                        clean = _scrub_cell(scrubber, value, encoded)
                        if clean != value:
                            dst.execute(
                                f'UPDATE "{table}" SET "{col}" = ? WHERE rowid = ?', (clean, row[0])
                            )
                            changed += 1
            exported = json.dumps(dt.datetime.now(dt.UTC).isoformat())
            dst.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('exported_at', ?)", (exported,)
            )
            dst.execute("COMMIT")
            dst.execute("VACUUM")
        finally:
            dst.close()
        checked = verify_scrubbed(tmp, secret_list)
        with SessionFile(tmp, check=True):
            pass
        try:
            os.link(tmp, target)  # never overwrites a file that appeared meanwhile
        except FileExistsError:
            raise ExportError(f"{target}: already exists; choose another name") from None
        except OSError:
            os.replace(tmp, target)
    except (OSError, sqlite3.Error) as exc:
        raise ExportError(f"{target}: the export could not be written ({exc})") from None
    except SessionFileError as exc:
        raise ExportError(f"{target}: the exported copy does not open ({exc})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return ExportReport(target, target.stat().st_size, changed, checked)
