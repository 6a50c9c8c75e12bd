"""`relapse data check` on the snapshot and on altered copies of it."""

from __future__ import annotations

import pytest
from helpers.data import (
    ACD,
    duplicate_row,
    edit,
    future_year,
    header_rename,
    string_in_number,
)

from relapse.cli import main
from relapse.errors import DataError
from relapse.sources import SOURCES, load
from relapse.sources.base import load_source

pytestmark = pytest.mark.snapshot


def test_data_check_passes_on_snapshot(data_dir, capsys) -> None:
    assert main(["data", "check", f"paths.data_dir={data_dir}"]) == 0
    out = capsys.readouterr().out
    assert "all" in out and "sources valid" in out
    assert ACD in out


def test_data_check_names_the_economic_loaders_exclusions(data_dir, capsys) -> None:
    """WDI's aggregates and microstates are listed (one notes key for every loader)."""
    assert main(["data", "check", f"paths.data_dir={data_dir}"]) == 0
    out = capsys.readouterr().out
    listed = out[out.index("Units excluded as not states") :]
    wdi = next(line for line in listed.splitlines() if SOURCES["wdi_population"].path in line)
    assert "WLD (59)" in wdi and "LIE (" in wdi
    assert any(SOURCES["cow_nmc"].path in line for line in listed.splitlines())


def test_every_manifest_file_has_a_loader(data_dir) -> None:
    import pandas as pd

    listed = set(pd.read_csv(data_dir / "MANIFEST.csv")["file"])
    assert listed == {s.path for s in SOURCES.values()}


def _truncate(text: str) -> str:
    return text[: len(text) // 2].rsplit("\n", 1)[0] + "\n"


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (lambda p: p.unlink(), "file not found"),
        (lambda p: edit(p, lambda t: t + "\n"), "SHA-256"),
        (lambda p: edit(p, _truncate), "SHA-256"),
    ],
    ids=["missing", "checksum", "truncated"],
)
def test_data_check_rejects_altered_file(data_copy, capsys, alter, message) -> None:
    alter(data_copy / ACD)
    assert main(["data", "check", f"paths.data_dir={data_copy}"]) == 3
    captured = capsys.readouterr()
    assert ACD in captured.out and message in captured.out
    assert "failed validation" in captured.err


def test_missing_data_directory(tmp_path, capsys) -> None:
    assert main(["data", "check", f"paths.data_dir={tmp_path / 'nope'}"]) == 3
    assert "does not exist" in capsys.readouterr().err


def _bad_quote(text: str) -> str:
    lines = text.split("\n")
    lines[4] = lines[4] + ',"unterminated'
    return "\n".join(lines) + '\n"'


def _bad_location(text: str) -> str:
    lines = text.split("\n")
    lines[1] = lines[1].replace(",750,3,25.1", ",Garoland,3,25.1")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (header_rename, r"missing column\(s\) \['type_of_conflict'\]"),
        (string_in_number, "column 'conflict_id'"),
        (duplicate_row, "conflict_id"),
        (_bad_quote, "malformed CSV|column"),
        (future_year, "year 2031 is in the future"),
        (_bad_location, "gwno_loc"),
    ],
    ids=[
        "renamed-column",
        "string-in-number",
        "duplicate-key",
        "malformed",
        "future-year",
        "bad-location",
    ],
)
def test_schema_rejects_altered_acd(data_copy, alter, message) -> None:
    edit(data_copy / ACD, alter)
    with pytest.raises(DataError, match=message) as info:
        load_source(SOURCES["ucdp_acd"], data_copy, verify=False)
    assert str(info.value).startswith(ACD)


def test_build_writes_nothing_on_bad_input(data_copy, tmp_path, capsys) -> None:
    edit(data_copy / ACD, lambda t: t + "\n")
    out = tmp_path / "processed"
    code = main(["build", f"paths.data_dir={data_copy}", f"paths.processed_dir={out}"])
    assert code == 3
    assert ACD in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_gwno_loc_lists_are_expanded(data_dir) -> None:
    acd = load("ucdp_acd", data_dir)
    multi = acd.loc[acd["gwno_loc"].str.contains(",")]
    assert len(multi) > 0
    counts = multi.groupby(["conflict_id", "year"]).size()
    listed = multi.groupby(["conflict_id", "year"])["gwno_loc"].first().str.count(",") + 1
    assert (counts == listed).all()


def test_a_joined_source_is_verified_too(data_copy) -> None:
    """The mission list joins the mission→host crosswalk: an altered crosswalk is caught."""
    crosswalk = "crosswalks/un_pko_mission_to_iso3.csv"
    edit(data_copy / crosswalk, lambda t: t + "\n")
    with pytest.raises(DataError, match=r"un_pko_mission_to_iso3\.csv: SHA-256"):
        load_source(SOURCES["un_mission_list"], data_copy, verify=True)
    # Without verification (synthetic data) the join still works.
    assert len(load_source(SOURCES["un_mission_list"], data_copy, verify=False).table)


@pytest.mark.parametrize("data", ["snapshot", "synthetic"])
def test_configured_files_default_to_the_loaders_paths(data) -> None:
    from relapse.config import compose_config

    cfg = compose_config([f"data={data}"])
    assert dict(cfg.data.files) == {k: s.path for k, s in SOURCES.items()}
