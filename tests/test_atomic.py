"""The one atomic-write helper: old or new content, never half; errors name the target."""

from __future__ import annotations

import os
import stat

import pytest

from relapse import atomic
from relapse.errors import OutputError


def test_write_bytes_replaces_whole_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out" / "scores.csv"
    atomic.write_bytes(target, b"old")
    atomic.write_text(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert stat.S_IMODE(target.stat().st_mode) == atomic.FILE_MODE
    assert sorted(p.name for p in target.parent.iterdir()) == ["scores.csv"]


def test_failing_writer_keeps_previous_file_and_removes_temporary(tmp_path):
    target = tmp_path / "panel.parquet"
    target.write_bytes(b"previous")

    def half_then_fail(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError, match="killed"):
        atomic.write_with(target, half_then_fail)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["panel.parquet"]


def test_os_error_becomes_output_error_naming_the_target(tmp_path):
    target = tmp_path / "report.html"
    target.mkdir()  # a folder in the way: os.replace fails
    with pytest.raises(OutputError, match=r"report\.html.*previous output"):
        atomic.write_text(target, "<html></html>")
    assert target.is_dir() and not any(target.iterdir())
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_staged_directory_removed_unless_moved(tmp_path):
    target = tmp_path / "data"
    with pytest.raises(ValueError), atomic.staged_directory(target) as tmp:
        (tmp / "a.csv").write_text("x")
        raise ValueError("failed while filling")
    assert list(tmp_path.iterdir()) == []
    with atomic.staged_directory(target) as tmp:
        (tmp / "a.csv").write_text("x")
        atomic.fsync(tmp)
        os.replace(tmp, target)
    assert [p.name for p in tmp_path.iterdir()] == ["data"]
    assert (target / "a.csv").read_text() == "x"
