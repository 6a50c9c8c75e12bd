"""A data release as users receive it: made-up changes to copies of the snapshot.

Each fixture alters a copy (``data_copy`` + ``materialise``): a territory Freedom House rates
for the first time, a new column, columns in another order, a renamed file, a new state (a
split) without a state list that has it, a state whose code vanished, BOM and CRLF.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers.data import materialise

from relapse.cli import main
from relapse.errors import DataError
from relapse.sources import SOURCES
from relapse.sources.base import load_source

pytestmark = pytest.mark.snapshot

FH = "governance/freedom_house.csv"


def _rewrite(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    materialise(path)
    edit(pd.read_csv(path)).to_csv(path, index=False)


def _add_unit(name: str, gwn: float | None):  # type: ignore[no-untyped-def]
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        row = df.iloc[[-1]].assign(fh_country=name, GWn=gwn, year=2018)
        return pd.concat([df, row], ignore_index=True)

    return edit


def _fh(data_dir: Path) -> tuple[pd.DataFrame, dict]:
    result = load_source(SOURCES["freedom_house"], data_dir, verify=False)
    return result.table, result.notes


def test_a_new_territory_is_excluded_and_named(data_copy, capsys) -> None:
    _rewrite(data_copy / FH, _add_unit("Republic of Newlandia", None))
    table, notes = _fh(data_copy)
    assert notes["new_excluded_units"] == ["Republic of Newlandia"]
    assert notes["excluded_non_states"]["Republic of Newlandia"] == 1
    assert "Republic of Newlandia" not in set(table["fh_country"])
    assert (
        main(["data", "check", f"paths.data_dir={data_copy}", "data.verify_checksums=false"]) == 0
    )
    out = capsys.readouterr().out
    assert "Republic of Newlandia [new] (1)" in out and "Western Sahara (30)" in out


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (
            _add_unit("Newstan", 999.0),
            r"not in the state-system list.*Newstan \(code 999, line 8709\)",
        ),
        (
            lambda df: df.assign(
                GWn=df["GWn"].mask(df["fh_country"].eq("Ghana") & df["year"].eq(2018))
            ),
            r"unit 'Ghana' \(line \d+\) has a country code in other rows \(its code vanished\)",
        ),
    ],
    ids=["new-state-not-in-state-list", "state-code-vanished"],
)
def test_a_state_the_state_list_does_not_know_is_fatal(data_copy, capsys, edit, reason) -> None:
    _rewrite(data_copy / FH, edit)
    with pytest.raises(DataError, match=reason) as info:
        _fh(data_copy)
    assert str(info.value).startswith(FH)
    assert main(["build", f"paths.data_dir={data_copy}", "data.verify_checksums=false"]) == 3
    assert FH in capsys.readouterr().err


def test_a_split_with_its_new_state_list_loads(data_copy) -> None:
    """The release that adds a state must also list it in gw_states.csv."""
    _rewrite(data_copy / FH, _add_unit("Newstan", 999.0))
    states = data_copy / "crosswalks" / "gw_states.csv"
    _rewrite(
        states,
        lambda df: pd.concat(
            [df, df.iloc[[-1]].assign(gwcode=999, stateabb="NWS", statename="Newstan")]
        ),
    )
    table, _ = _fh(data_copy)
    assert table.loc[table["gwno"] == 999, "fh_country"].tolist() == ["Newstan"]


def test_new_columns_other_order_bom_and_crlf_change_nothing(data_copy, data_dir) -> None:
    expected, _ = _fh(data_dir)
    path = data_copy / FH
    _rewrite(
        path,
        lambda df: df.assign(fh_new_indicator=1)[[*df.columns[::-1], "fh_new_indicator"]],
    )
    text = path.read_text()
    assert text.startswith("fh_new_indicator,") is False and "fh_new_indicator" in text
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    table, _ = _fh(data_copy)
    pd.testing.assert_frame_equal(table, expected)


def test_a_renamed_file_works_by_override(data_copy, capsys) -> None:
    renamed = "governance/freedom_house_2019.csv"
    (data_copy / FH).rename(data_copy / renamed)
    base = ["data", "check", f"paths.data_dir={data_copy}", "data.verify_checksums=false"]
    assert main(base) == 3
    assert f"{FH}: file not found" in capsys.readouterr().out
    assert main([*base, f"data.files.freedom_house={renamed}"]) == 0
    out = capsys.readouterr().out
    assert renamed in out and "freedom_house" in out
    assert main([*base, "data.files.freedom_hous=x.csv"]) == 2


def test_a_manifest_file_without_loader_is_not_used_not_fatal(data_copy, capsys) -> None:
    manifest = materialise(data_copy / "MANIFEST.csv")
    manifest.write_text(manifest.read_text() + "extra/readme_2019.csv," + "0f" * 32 + ",3,2,,,\n")
    assert main(["data", "check", f"paths.data_dir={data_copy}"]) == 0
    out = capsys.readouterr().out
    assert "extra/readme_2019.csv" in out and "not used" in out
