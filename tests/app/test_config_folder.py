"""One settings folder (issue #14 item 12): the old ``~/.config/VoiceCam`` files move into
``config_dir()`` once, and none is lost."""

from __future__ import annotations

from pathlib import Path

from app.config import config_dir
from app.config_folder import legacy_config_dir, migrate_legacy_config, window_state_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def everything(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_migration_moves_every_file_once_and_loses_none(tmp_path: Path) -> None:
    new, old = tmp_path / "voicecam", tmp_path / "VoiceCam"
    write(old / "VoiceCam.ini", "[window]\ngeometry=old\n")
    write(old / "notes" / "a.txt", "only in the old folder")
    write(old / "same.txt", "same bytes")
    write(old / "settings.toml", 'backend = "openai"\n')
    write(new / "same.txt", "same bytes")
    write(new / "settings.toml", 'backend = "gemini"\n')
    write(new / "settings.toml.from-VoiceCam", "an earlier one")
    before = set(everything(old).values()) | set(everything(new).values())

    done = migrate_legacy_config(new, old)

    assert not old.exists()  # gone: the migration cannot run twice
    files = everything(new)
    assert files["window.ini"] == "[window]\ngeometry=old\n"
    assert files["notes/a.txt"] == "only in the old folder"
    assert files["settings.toml"] == 'backend = "gemini"\n'  # the one in use stays in use
    assert files["settings.toml.from-VoiceCam-2"] == 'backend = "openai"\n'  # kept beside it
    assert set(files.values()) == before  # nothing lost
    assert done.moved == ("VoiceCam.ini", "notes/a.txt")
    assert done.duplicates == ("same.txt",)
    assert done.kept_aside == ("settings.toml.from-VoiceCam-2",)
    assert done.problem == ""
    assert migrate_legacy_config(new, old) == type(done)()  # nothing left to do


def test_a_file_that_cannot_move_stays_and_is_named(tmp_path: Path) -> None:
    new, old = tmp_path / "voicecam", tmp_path / "VoiceCam"
    write(old / "notes" / "a.txt", "x")
    write(old / "VoiceCam.ini", "y")
    write(new / "notes", "a file where the old folder has a folder")
    done = migrate_legacy_config(new, old)
    assert (old / "notes" / "a.txt").read_text() == "x"  # stays where it was
    assert (new / "window.ini").read_text() == "y"
    assert done.failed == ("notes/a.txt",) and "notes/a.txt" in done.problem


def test_the_folders_follow_the_platform(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("VOICECAM_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_dir() == tmp_path / "voicecam"
    assert legacy_config_dir() == tmp_path / "VoiceCam"
    assert window_state_path() == tmp_path / "voicecam" / "window.ini"
    monkeypatch.setenv("VOICECAM_CONFIG_DIR", str(tmp_path / "portable"))
    assert legacy_config_dir() is None  # a chosen folder: nothing to migrate into it
    assert window_state_path() == tmp_path / "portable" / "window.ini"
