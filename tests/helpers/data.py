"""The snapshot and writable, altered copies of it (the ``data_copy`` fixture's helpers)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

ACD = "conflict/ucdp_prio_acd_v25_1.csv"


def snapshot_dir() -> Path:
    """The raw data snapshot: $RELAPSE_DATA_DIR, else ../shared/data beside the repository."""
    env = os.environ.get("RELAPSE_DATA_DIR")
    return (Path(env) if env else REPO.parent / "shared" / "data").resolve()


def materialise(path: Path) -> Path:
    """Replace a symlink made by ``data_copy`` with a writable copy of its target."""
    if path.is_symlink():
        target = path.resolve()
        path.unlink()
        shutil.copyfile(target, path)
        path.chmod(0o644)
    return path


def builder_args(inputs: dict) -> tuple:
    """A test's inputs (source tables plus ``spine``) as a builder's ``grid, tables``."""
    from relapse.features.align import Grid

    tables = {key: table for key, table in inputs.items() if key != "spine"}
    return Grid(spine=inputs["spine"]), tables


def family_inputs(sources: tuple[str, ...], data_dir: Path, last_year: int = 2018) -> dict:
    """A family builder's inputs from the snapshot: its sources plus the GW spine (the builder
    gets them through :func:`builder_args`)."""
    from relapse.panel import build_spine
    from relapse.sources import load, load_tables

    tables = load_tables(sources, data_dir)
    tables["spine"] = build_spine(
        load("gw_states", data_dir), 1946, last_year, load("country_codes", data_dir)
    )
    return tables


# ------------------------------------------------------------- alterations of a CSV's text


def edit(path: Path, fn: Callable[[str], str]) -> None:
    """Materialise ``path`` and replace its text with ``fn(text)``."""
    materialise(path)
    path.write_text(fn(path.read_text()))


def header_rename(text: str) -> str:
    """Rename the ``type_of_conflict`` column."""
    head, rest = text.split("\n", 1)
    return head.replace("type_of_conflict", "conflict_type") + "\n" + rest


def string_in_number(text: str) -> str:
    """A word in the first (numeric) field of the fifth data row."""
    lines = text.split("\n")
    fields = lines[5].split(",")
    fields[0] = "eleven"
    lines[5] = ",".join(fields)
    return "\n".join(lines)


def duplicate_row(text: str) -> str:
    """Repeat the third data row at the end."""
    lines = text.rstrip("\n").split("\n")
    return "\n".join([*lines, lines[3]]) + "\n"


def future_year(text: str) -> str:
    """Move the first data row from 2012 to 2031."""
    lines = text.split("\n")
    lines[1] = lines[1].replace(",2012,", ",2031,", 1)
    return "\n".join(lines)
