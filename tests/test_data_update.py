"""The data-update workflow of the README, end to end through the command line.

The snapshot cut at 2017 (``data.vintage_year=2017``) plays the old release and the full 2018
snapshot the new one: train → champion → score as of 2017; then train on the new release,
whose version becomes champion only if its backtest average precision, on the rows both
backtests forecast, is at least the champion's; score as of 2018 with whichever model is
champion; the 2017 scores stay as they were.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from helpers.faults import tmp_overrides
from sklearn.metrics import average_precision_score

from relapse.cli import main
from relapse.registry import MIN_COMMON_ROWS

pytestmark = [pytest.mark.slow, pytest.mark.snapshot]

HORIZONS = (1, 5)


def overrides(tmp: Path, data_dir: Path) -> list[str]:
    return [
        f"paths.data_dir={data_dir}",
        "features.families=[conflict_legacy]",
        f"target.horizons=[{','.join(map(str, HORIZONS))}]",
        "split.first_origin=2012",
        "split.bootstrap_samples=30",
        "model.num_boost_round=60",
        "model.params.num_threads=1",
        "report.on_train=false",
        *tmp_overrides(tmp),
    ]


def hashes(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_new_release_is_trained_promoted_by_rule_and_scored(tmp_path, data_dir, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    base = overrides(tmp_path, data_dir)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def champion(h: int):  # type: ignore[no-untyped-def]
        return client.get_model_version_by_alias(f"relapse-h{h}", "champion")

    def backtest(version) -> pd.DataFrame:  # type: ignore[no-untyped-def]
        path = client.download_artifacts(
            version.run_id, "backtest_predictions.parquet", str(tmp_path)
        )
        table = pd.read_parquet(path)
        return table.loc[table["horizon"] == int(version.tags["horizon"])]

    # The old release: trained, promoted (no champion yet), scored as of 2017.
    assert main(["train", *base, "data.vintage_year=2017"]) == 0
    old = {h: champion(h) for h in HORIZONS}
    assert {h: (str(v.version), v.tags["data_last_year"]) for h, v in old.items()} == {
        h: ("1", "2017") for h in HORIZONS
    }
    assert main(["score", *base, "data.vintage_year=2017"]) == 0
    scores_2017 = tmp_path / "scores" / "as_of=2017"
    before = hashes(scores_2017)
    target_2017 = scores_2017.resolve()

    # The new release: a new version per horizon, champion only by the promotion rule —
    # average precision on the backtest rows both releases forecast, recomputed here.
    assert main(["train", *base]) == 0
    for h in HORIZONS:
        new = client.get_model_version(f"relapse-h{h}", "2")
        assert new.tags["data_last_year"] == "2018"
        assert new.run_id != old[h].run_id
        ours, theirs = backtest(new), backtest(old[h])
        both = ours.merge(theirs, on=["gwno", "year"], suffixes=("", "_old"))
        # Every row the old release forecast is forecast again, with the same label.
        assert len(both) == len(theirs)
        assert (both["y_true"] == both["y_true_old"]).all()
        promoted = average_precision_score(
            both["y_true"], both["p_model"]
        ) >= average_precision_score(both["y_true"], both["p_model_old"])
        assert len(both) >= MIN_COMMON_ROWS and both["y_true"].nunique() == 2
        assert client.get_run(new.run_id).data.tags[f"promotion_basis_h{h}"] == (
            "common backtest rows"
        )
        assert str(champion(h).version) == ("2" if promoted else "1"), h

    assert main(["score", *base]) == 0
    scores = pd.read_parquet(tmp_path / "scores" / "as_of=2018" / "scores.parquet")
    assert set(scores["as_of_year"]) == {2018}
    for h in HORIZONS:
        used = scores.loc[scores["horizon_years"] == h, "model_version"]
        assert set(used) == {str(champion(h).version)}

    # The previous release's scores are kept, byte for byte, in the same place.
    assert hashes(scores_2017) == before
    assert scores_2017.resolve() == target_2017


def test_a_release_with_a_renamed_file_and_no_manifest(data_copy, data_dir, tmp_path, capsys):
    """The README's steps for a new release: check, write the manifest, check again, build."""
    from helpers.data import materialise

    renamed = "conflict/ucdp_prio_acd_v26_1.csv"
    (data_copy / "conflict/ucdp_prio_acd_v25_1.csv").rename(data_copy / renamed)
    (data_copy / "MANIFEST.csv").unlink()
    release = [f"paths.data_dir={data_copy}", f"data.files.ucdp_acd={renamed}"]

    assert main(["data", "check", *release]) == 3
    assert "MANIFEST.csv: not found" in capsys.readouterr().err
    assert main(["data", "check", *release, "data.verify_checksums=false"]) == 0
    assert main(["data", "manifest", *release]) == 0
    assert "no previous manifest" in capsys.readouterr().out
    written = pd.read_csv(data_copy / "MANIFEST.csv").set_index("file")
    shipped = pd.read_csv(data_dir / "MANIFEST.csv").set_index("file")
    shipped = shipped.rename(index={"conflict/ucdp_prio_acd_v25_1.csv": renamed})
    columns = ["sha256", "rows", "columns"]
    pd.testing.assert_frame_equal(written.loc[shipped.index, columns], shipped[columns])
    assert main(["data", "check", *release]) == 0
    out = tmp_path / "processed"
    assert main(["build", *release, f"paths.processed_dir={out}"]) == 0

    # Rerun: nothing changed. A changed file: refused without --force, named with it.
    assert main(["data", "manifest", *release]) == 0
    assert "is up to date" in capsys.readouterr().out
    before = (data_copy / "MANIFEST.csv").read_bytes()
    fh = materialise(data_copy / "governance/freedom_house.csv")
    # The new release rates one more territory (no GW code): excluded, the file still valid.
    fh.write_text(fh.read_text() + "Newlandia,2018,4,4,PF,8,6,Newlandia,,,0\n")
    assert main(["data", "manifest", *release]) == 3
    assert "1 changed (governance/freedom_house.csv)" in capsys.readouterr().err
    assert (data_copy / "MANIFEST.csv").read_bytes() == before
    assert main(["data", "manifest", *release, "--force"]) == 0
    assert "1 changed (governance/freedom_house.csv)" in capsys.readouterr().out


def test_the_manifest_is_refused_when_a_file_fails(data_copy, capsys):
    from helpers.data import materialise

    acd = materialise(data_copy / "conflict/ucdp_prio_acd_v25_1.csv")
    acd.write_text(acd.read_text().replace("type_of_conflict", "conflict_type", 1))
    (data_copy / "MANIFEST.csv").unlink()
    assert main(["data", "manifest", f"paths.data_dir={data_copy}"]) == 3
    err = capsys.readouterr().err
    assert "1 file(s) failed validation" in err
    assert "conflict/ucdp_prio_acd_v25_1.csv: missing column(s) ['type_of_conflict']" in err
    assert not (data_copy / "MANIFEST.csv").exists()
