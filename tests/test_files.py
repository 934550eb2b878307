"""Atomic writes: the old content or the new, never half of one, and no stray temporary file."""

import os

import pytest

from engine.core.files import write_text_atomic


def test_the_new_content_replaces_the_old_and_no_temporary_file_is_left(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old")
    write_text_atomic(path, '{"accuracy": 0.8}', durable=True)
    assert path.read_text() == '{"accuracy": 0.8}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_failed_swap_keeps_the_old_content_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "settings.toml"
    path.write_text("library = \"sample\"\n")

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_text_atomic(path, "library = \"science\"\n")
    assert path.read_text() == "library = \"sample\"\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]


def test_unicode_is_written_as_utf8(tmp_path):
    path = tmp_path / "r.md"
    write_text_atomic(path, "7 × 8 = 56 — isn’t it?")
    assert path.read_bytes().decode("utf-8") == "7 × 8 = 56 — isn’t it?"
