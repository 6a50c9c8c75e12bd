"""``data=synthetic``: a seeded simulated data set with the snapshot's layout and planted effects.

The properties tested here are the point of the simulator: the files are deterministic and
pass ``relapse data check``; the whole pipeline runs on them without the snapshot; the model
recovers the planted effects (backtest ROC-AUC well above 0.5) and SHAP ranks the noise family
(economy) below every family with a planted effect.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relapse.config import FAMILIES, compose_config
from relapse.errors import ConfigError, DataError
from relapse.synthetic import MARKER, NOISE_FAMILY, ensure_dataset, unit_codes, write_dataset

REPO = Path(__file__).resolve().parent.parent

# One thread: LightGBM's OpenMP threads crawl when the cores are shared with other jobs.
FAST = ["model.params.num_threads=1", "split.bootstrap_samples=50"]


def synthetic_cfg(tmp: Path, *overrides: str):
    return compose_config(["data=synthetic", f"paths.processed_dir={tmp}", *FAST, *overrides])


def manifest_hashes(directory: Path) -> dict[str, str]:
    manifest = pd.read_csv(directory / "MANIFEST.csv")
    return dict(zip(manifest["file"], manifest["sha256"], strict=True))


# ------------------------------------------------------------------------- files and codes


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path) -> None:
    cfg = synthetic_cfg(tmp_path, "data.n_units=40", "seed=11")
    first = manifest_hashes(write_dataset(cfg, tmp_path / "a"))
    again = manifest_hashes(write_dataset(cfg, tmp_path / "b"))
    assert first == again
    for path in first:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()
    other = manifest_hashes(
        write_dataset(synthetic_cfg(tmp_path, "data.n_units=40", "seed=12"), tmp_path / "c")
    )
    assert other["conflict/ucdp_prio_acd_v25_1.csv"] != first["conflict/ucdp_prio_acd_v25_1.csv"]


def test_data_check_passes_and_generation_happens_once(tmp_path, capsys) -> None:
    from relapse.cli import main

    args = ["data", "check", "data=synthetic", "data.n_units=30", f"paths.processed_dir={tmp_path}"]
    assert main(args) == 0
    assert "all 37 sources valid" in capsys.readouterr().out
    data_dir = tmp_path / "raw"
    assert (data_dir / MARKER).is_file()
    stamp = (data_dir / "MANIFEST.csv").stat().st_mtime_ns
    assert main(args) == 0
    assert (data_dir / "MANIFEST.csv").stat().st_mtime_ns == stamp, "regenerated needlessly"


def test_incomplete_data_set_is_regenerated(tmp_path) -> None:
    cfg = synthetic_cfg(tmp_path, "data.n_units=20")
    data_dir = ensure_dataset(cfg)
    (data_dir / "economic/pwt10_01.csv").unlink()
    assert ensure_dataset(cfg) == data_dir
    assert (data_dir / "economic/pwt10_01.csv").is_file()
    assert not [p for p in data_dir.parent.iterdir() if p.name.startswith(".")], "temp left"


def test_refuses_to_overwrite_a_directory_it_did_not_write(tmp_path) -> None:
    foreign = tmp_path / "real"
    foreign.mkdir()
    (foreign / "MANIFEST.csv").write_text("file,sha256,rows\n")
    cfg = synthetic_cfg(tmp_path, "data.n_units=20", f"paths.data_dir={foreign}")
    with pytest.raises(DataError, match="not a synthetic data set"):
        ensure_dataset(cfg)


def test_full_disk_while_generating_is_an_output_error_and_leaves_nothing(
    tmp_path, monkeypatch
) -> None:
    import errno

    from relapse.errors import OutputError
    from relapse.synthetic import dataset

    def full_disk(path: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(dataset, "fsync", full_disk)
    cfg = synthetic_cfg(tmp_path, "data.n_units=20")
    with pytest.raises(OutputError, match=f"could not write {tmp_path / 'raw'}: No space left"):
        ensure_dataset(cfg)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "partial data set or temp left"


def test_the_loaders_never_import_the_simulator() -> None:
    """The dependency runs one way: ``relapse.data_dir`` → ``relapse.synthetic`` → sources
    (no import of the simulator anywhere in ``relapse/sources``, not even inside a function)."""
    import ast

    import relapse.sources

    offenders = []
    for path in sorted(Path(relapse.sources.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("relapse.synthetic")]
    assert offenders == []


def test_codes_are_unique_and_never_real_or_special() -> None:
    from relapse.countries import COW_TO_GW_TRAPS, ISO3_TO_GW_TRAPS, NON_STATE_ISO3

    units = unit_codes(2000)
    assert units["gwno"].is_unique and units["iso3"].is_unique
    assert units["iso3"].str.fullmatch(r"[A-Z]{3}").all()
    assert units["gwno"].min() >= 2
    assert not set(units["gwno"]) & ({2, 20, 200, 345, 625, 700} | set(COW_TO_GW_TRAPS))
    assert not set(units["iso3"]) & ({"USA", "AFG", "SDN"} | set(ISO3_TO_GW_TRAPS) | NON_STATE_ISO3)
    assert (units["gwno"] > 999).sum() == 2000 - (units["gwno"] < 1000).sum() > 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.n_units=0", "n_units"),
        ("data.n_years=5", "n_years"),
        ("data.first_year=1990", "must lie within"),
        ("data.name=fake", "data.name"),
    ],
)
def test_bad_synthetic_sizes_are_rejected(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compose_config(["data=synthetic", override])


def test_a_world_too_small_for_every_source_exits_2_and_writes_nothing(tmp_path, capsys) -> None:
    from relapse.cli import main

    data = tmp_path / "synthetic"
    code = main(["build", "data=synthetic", f"paths.data_dir={data}", "data.n_units=1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "data.n_units=1 (seed 20190101) is too small" in err and "no peace agreement" in err
    assert len(err.strip().splitlines()) == 1
    assert not data.exists() and list(tmp_path.iterdir()) == []


def test_synthetic_run_is_isolated_from_the_real_one() -> None:
    real, synthetic = compose_config(), compose_config(["data=synthetic"])
    for key in ("processed_dir", "data_dir", "reports_dir", "scores_dir"):
        assert synthetic.paths[key] != real.paths[key], key
    assert synthetic.mlflow.model_name_prefix != real.mlflow.model_name_prefix
    assert synthetic.mlflow.experiment_name != real.mlflow.experiment_name


# ------------------------------------------------------------------- panel, model and SHAP


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A 300-state synthetic panel (about 20,000 country-years) and its config."""
    from relapse.build import build_panel

    tmp = tmp_path_factory.mktemp("synthetic")
    cfg = synthetic_cfg(tmp, "data.n_units=300", "seed=1")
    return cfg, build_panel(cfg).panel


def test_panel_has_every_family_and_sane_base_rates(planted) -> None:
    from relapse.features import family_map

    cfg, panel = planted
    families = set(family_map(cfg).values())
    assert families == set(FAMILIES)
    pop = panel.loc[panel["in_population"]]
    assert len(pop) > 1500
    for h, (lo, hi) in {1: (0.04, 0.2), 5: (0.15, 0.5)}.items():
        rate = pop[f"relapse_h{h}"].dropna().astype(float).mean()
        assert lo < rate < hi, (h, rate)
    # Every family has at least one feature with values among post-conflict rows.
    fmap = family_map(cfg)
    for family in FAMILIES:
        cols = [c for c, f in fmap.items() if f == family]
        assert pop[cols].notna().any().any(), family


def test_backtest_recovers_planted_signal(planted) -> None:
    from relapse.backtest import backtest
    from relapse.evaluate import roc_auc
    from relapse.features import feature_columns

    cfg, panel = planted
    predictions = backtest(panel, feature_columns(cfg), cfg).predictions
    predictions = predictions.loc[predictions["horizon"] == 5]
    y = predictions["y_true"].to_numpy()
    auc = roc_auc(y, predictions["p_model"].to_numpy())
    assert len(predictions) > 300 and 0 < y.mean() < 1
    assert auc > 0.65, auc


def test_shap_ranks_the_noise_family_last(planted) -> None:
    from relapse.backtest import build_hazard_model, label_frame, population
    from relapse.explain import explain_panel, global_importance
    from relapse.features import family_map, feature_columns
    from relapse.forecast import Forecast
    from relapse.model import RoutedModel

    cfg, panel = planted
    fmap = family_map(cfg)
    features = feature_columns(cfg)
    pop = population(panel)
    hazard = build_hazard_model(cfg).fit(
        pop[features], label_frame(pop, [1, 2, 5]), pop["year"], int(panel["year"].max())
    )
    model = Forecast(model=RoutedModel(relapse=hazard), horizon=1, family_map=fmap)
    shap_long, _ = explain_panel(panel, {1: model}, fmap)
    ranking = global_importance(shap_long, fmap)
    families = ranking.loc[ranking["level"] == "family"].sort_values("rank")
    order = families["name"].tolist()
    assert order[-1] == NOISE_FAMILY, order
    # The four families with the largest planted effects are all in the top five.
    assert {"conflict_legacy", "services", "mission", "governance"} <= set(order[:5]), order
    values = families.set_index("name")["mean_abs_shap"]
    assert values[NOISE_FAMILY] < 0.75 * np.median(values), values.to_dict()


# ------------------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_relapse_run_without_the_snapshot(tmp_path) -> None:
    """``relapse run data=synthetic`` on a machine without ``../shared`` or RELAPSE_DATA_DIR."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("RELAPSE_DATA_DIR", "MLFLOW_TRACKING_URI")
    }
    env["HOME"] = str(tmp_path / "home")
    env["TMPDIR"] = str(tmp_path / "tmp")
    for d in (env["HOME"], env["TMPDIR"]):
        Path(d).mkdir()
    work = tmp_path / "work"
    work.mkdir()
    overrides = [
        "data=synthetic",
        "data.n_units=80",
        "seed=3",
        "target.horizons=[1,2]",
        f"paths.processed_dir={work / 'processed'}",
        f"paths.output_dir={work / 'outputs'}",
        f"mlflow.embedded_store={work / 'mlflow.db'}",
        f"mlflow.artifact_root={work / 'mlartifacts'}",
        "split.first_origin=2010",
        *FAST,
    ]
    result = subprocess.run(
        [sys.executable, "-m", "relapse.cli", "run", *overrides],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    processed = work / "processed"
    assert (processed / "raw" / "MANIFEST.csv").is_file()
    assert (processed / "panel.parquet").is_file()
    assert "all 37 sources valid" in result.stdout
    assert "registered relapse-synthetic-h1" in result.stdout
