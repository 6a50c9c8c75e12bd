"""``relapse score``: scope, statuses, output contract, determinism, atomicity, lock, safety.

Models are stand-ins trained here with ``lightgbm.train`` on the real snapshot (conflict-
legacy features) and wrapped in an object with the ``relapse.forecast.Forecast``
interface the scorer uses; one test logs to a temporary MLflow SQLite store.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.scoring import FAMILIES, StandInModel, file_hashes, make_cfg, run

from relapse.config import compose_config
from relapse.errors import ConfigError, ModelError, OutputError
from relapse.scoring import job as score_job
from relapse.scoring import outputs as score_outputs
from relapse.scoring.brief import md_text, render_brief_html
from relapse.scoring.job import ScoreLockError, score
from relapse.scoring.outputs import render_files
from relapse.scoring.table import COLUMNS, score_schema

pytestmark = pytest.mark.snapshot


# ---------------------------------------------------------------------------------- scope


def test_active_missions_2018_lists_hosts_with_statuses(tmp_path, processed_dir, models):
    result = run(tmp_path, processed_dir, models)
    t = result.table
    assert result.as_of == 2018
    assert set(t["horizon_years"]) == {1, 2, 5}
    by_iso = t.drop_duplicates("iso3").set_index("iso3")
    for iso in ("MLI", "COD", "SSD", "CAF"):  # hosts in active conflict: listed, no probability
        assert by_iso.at[iso, "status"] == "active_conflict"
    active = t.loc[t["iso3"].isin(["MLI", "COD", "SSD"])]
    assert len(active) == 9 and active["relapse_probability"].isna().all()
    assert (active["risk_band"] == "").all() and (active["top_drivers_up"] == "").all()
    assert "MINUSMA" in by_iso.at["MLI", "missions"]
    for iso in ("LBN", "CYP", "HTI", "IND", "PAK", "SYR", "ISR", "SDN", "XKX"):
        assert iso in by_iso.index, iso
    # MINURSO: Western Sahara is not a GW state; UCDP locates the conflict in Morocco.
    assert "MINURSO" in by_iso.at["MAR", "missions"] and "ESH" not in by_iso.index
    # UNDOF on Israel and Syria, not Lebanon; Kosovo missions on Kosovo only in 2018.
    assert "UNDOF" in by_iso.at["ISR", "missions"] and "UNDOF" in by_iso.at["SYR", "missions"]
    assert "UNDOF" not in by_iso.at["LBN", "missions"]
    assert "SRB" not in by_iso.index and "KFOR" in by_iso.at["XKX", "missions"]
    assert by_iso.at["IND", "interstate_mission"] and not by_iso.at["MLI", "interstate_mission"]
    assert "not recorded since 2016" in by_iso.at["AFG", "mission_status"]


def test_every_host_not_at_war_has_probabilities_at_all_horizons(tmp_path, processed_dir, models):
    t = run(tmp_path, processed_dir, models).table
    at_peace = t.loc[t["status"] != "active_conflict"]
    assert (at_peace["status"] == "scored").all()
    assert at_peace.groupby("gwno")["relapse_probability"].count().eq(3).all()
    assert set(at_peace["risk_type"]) <= {"relapse", "renewed", "onset"}
    assert at_peace["years_at_peace"].notna().all()
    cyprus = t.loc[t["iso3"] == "CYP"]
    # UCDP codes no internal conflict in Cyprus (1974 was interstate): onset risk.
    assert (cyprus["risk_type"] == "onset").all() and cyprus["relapse_probability"].notna().all()
    war = t.loc[t["status"] == "active_conflict"]
    assert (war["conflicts"] != "").all() and war["episode_start_year"].notna().all()
    assert war["intensity"].isin([1, 2]).all() and war["relapse_probability"].isna().all()
    mali = war.loc[war["iso3"] == "MLI"].iloc[0]
    assert "Mali" in mali["conflicts"] and mali["battle_deaths"] > 0
    scored = t.loc[t["status"] == "scored"]
    assert len(scored) and scored["relapse_probability"].between(0, 1).all()
    assert (scored["risk_band"] != "").all()
    assert (
        scored["top_drivers_up"]
        .str.cat(scored["top_drivers_down"])
        .str.contains("conflict_legacy")
        .all()
    )


def test_all_post_conflict_scores_the_population(tmp_path, processed_dir, models):
    from relapse.build import build_panel

    result = run(tmp_path, processed_dir, models, "score.scope=all_post_conflict")
    panel = build_panel(make_cfg(tmp_path, processed_dir)).panel
    pop = panel.loc[(panel["year"] == 2018) & panel["in_population"]]
    assert set(result.table["gwno"].astype(int)) == set(pop["gwno"])
    assert (result.table["status"] == "scored").all()


def test_countries_scope_accepts_iso3_and_gw(tmp_path, processed_dir, models):
    t = run(
        tmp_path,
        processed_dir,
        models,
        "score.scope=countries",
        "score.countries=[lbn,'490']",
        "score.as_of=2015",
    ).table
    assert sorted(t["iso3"].unique()) == ["COD", "LBN"]
    assert (t["as_of_year"] == 2015).all()


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("score.countries=[LBN,XYZ,'999']", r"unknown ISO3 or GW code\(s\) \['XYZ', '999'\]"),
        ("score.countries=null", "needs score.countries"),
    ],
)
def test_countries_scope_rejects_unknown(tmp_path, processed_dir, models, override, match):
    with pytest.raises(ConfigError, match=match):
        run(tmp_path, processed_dir, models, "score.scope=countries", override)


def test_as_of_outside_data_is_a_config_error(tmp_path, processed_dir, models):
    with pytest.raises(ConfigError, match="outside the data"):
        run(tmp_path, processed_dir, models, "score.as_of=2020")


# ------------------------------------------------------------------------- output contract


def test_schema_and_column_order(tmp_path, processed_dir, models):
    result = run(tmp_path, processed_dir, models)
    out = result.out_dir
    assert sorted(p.name for p in out.iterdir()) == sorted(score_outputs.FILES)
    assert tuple(result.table.columns) == COLUMNS
    parquet = pd.read_parquet(out / "scores.parquet")
    assert tuple(parquet.columns) == COLUMNS
    score_schema().validate(parquet)
    csv = pd.read_csv(out / "scores.csv", keep_default_na=False, dtype=str)
    assert tuple(csv.columns) == COLUMNS
    assert len(csv) == len(parquet)
    assert set(csv.loc[csv["status"] != "scored", "relapse_probability"]) == {""}
    html = (out / "brief.html").read_text()
    md = (out / "brief.md").read_text()
    for text in (html, md):
        assert "not causal" in text and result.data_vintage in text
        assert "relapse-h5 version 3" in text
    scored = int((parquet["status"] == "scored").sum())
    war = int((parquet["status"] == "active_conflict").sum()) // 3
    missions = len(result.missions)
    assert md.count("\n| ") == (scored + 1) + (war + 1) + (missions + 1)


@pytest.mark.parametrize(
    ("multiple", "band"),
    [
        (0.0, "low"),
        (0.499, "low"),
        (0.5, "moderate"),
        (1.499, "moderate"),
        (1.5, "high"),
        (2.999, "high"),
        (3.0, "very high"),
    ],
)
@pytest.mark.parametrize("base_rate", [0.099, 0.161, 0.286])
def test_risk_band_is_relative_to_the_base_rate(multiple, band, base_rate):
    from relapse import bands

    # A value equal to a cut (multiple x base rate) falls in the higher band.
    assert bands.band(multiple * base_rate, base_rate) == band


def test_bands_agree_between_scores_brief_and_base_rate(tmp_path, processed_dir, models):
    from relapse import bands

    result = run(tmp_path, processed_dir, models, "score.scope=not_at_war")
    t = result.table.loc[result.table["status"] == "scored"]
    expected = [
        bands.band(p, result.base_rates[h])
        for p, h in zip(t["relapse_probability"], t["horizon_years"], strict=True)
    ]
    assert list(t["risk_band"]) == expected
    # At five years no forecast below the base rate is "high".
    five = t.loc[t["horizon_years"] == 5]
    assert not (
        (five["relapse_probability"] < five["base_rate"]) & (five["risk_band"] == "high")
    ).any()
    md = (result.out_dir / "brief.md").read_text()
    for r in t.head(20).itertuples():
        assert f"| {r.relapse_probability * 100:.1f}% | {r.risk_band} |" in md


def test_not_at_war_scope_scores_every_country_at_peace(tmp_path, processed_dir, models):
    from relapse.build import build_panel

    result = run(tmp_path, processed_dir, models, "score.scope=not_at_war")
    panel = build_panel(make_cfg(tmp_path, processed_dir)).panel
    peace = panel.loc[(panel["year"] == 2018) & ~panel["active"]]
    assert set(result.table["gwno"].astype(int)) == set(peace["gwno"])
    assert (result.table["status"] == "scored").all()
    assert {"relapse", "renewed", "onset"} == set(result.table["risk_type"])


def test_rerun_restores_edited_and_deleted_outputs(tmp_path, processed_dir, models):
    out = run(tmp_path, processed_dir, models).out_dir
    first = file_hashes(out)
    with open(out / "scores.csv", "a") as fh:
        fh.write("tampered\n")
    (out / "brief.md").unlink()
    (out / "extra.txt").write_text("left by hand")
    assert file_hashes(run(tmp_path, processed_dir, models).out_dir) == first


@pytest.mark.parametrize(
    "name", ["[x](javascript:alert(1))", "![t](http://evil.example/p.png)", "<img src=x>"]
)
def test_brief_markdown_neutralises_links_and_images(name):
    import re

    text = md_text(name)
    assert not re.search(r"(?<!\\)[\[\]()<>!]", text)
    assert "://" not in text


def test_rerun_is_byte_identical(tmp_path, processed_dir, models):
    first = file_hashes(run(tmp_path, processed_dir, models).out_dir)
    second = file_hashes(run(tmp_path, processed_dir, models).out_dir)
    assert first == second
    # A fresh process-independent render of the same result gives the same bytes too.
    result = run(tmp_path, processed_dir, models)
    assert render_files(result) == render_files(result)
    hidden = [p.name for p in (tmp_path / "scores").iterdir() if p.name.startswith(".as_of")]
    assert len(hidden) == 1  # no leftovers from the re-runs


def test_scoring_inputs_are_cached_beside_the_panel(tmp_path, processed_dir, models, monkeypatch):
    import relapse.sources
    from relapse import build

    first = file_hashes(run(tmp_path, processed_dir, models).out_dir)
    folder = processed_dir / build.SCORING_DIR
    assert (folder / build.SCORING_META).is_file()

    def no_loading(*_: Any, **__: Any) -> None:
        raise AssertionError("a source was loaded although the cached inputs are valid")

    with monkeypatch.context() as patched:
        patched.setattr(relapse.sources, "load_tables", no_loading)
        patched.setattr(relapse.sources, "load", no_loading)
        assert file_hashes(run(tmp_path, processed_dir, models).out_dir) == first
    (folder / "ucdp_acd.parquet").write_bytes(b"PAR1 damaged")  # the meta file is left intact
    assert build.read_scoring_inputs(make_cfg(tmp_path, processed_dir)) is None
    assert file_hashes(run(tmp_path, processed_dir, models).out_dir) == first
    assert build.read_scoring_inputs(make_cfg(tmp_path, processed_dir)) is not None


# ------------------------------------------------------------------- safe when unattended


def test_crash_mid_write_leaves_previous_outputs(tmp_path, processed_dir, models, monkeypatch):
    first = run(tmp_path, processed_dir, models)
    before = file_hashes(first.out_dir)
    real = score_outputs._write_file
    written: list[str] = []

    def crash_on_second(path: Path, data: bytes) -> None:
        written.append(path.name)
        if len(written) == 2:
            raise OSError("disk full (simulated)")
        real(path, data)

    monkeypatch.setattr(score_outputs, "_write_file", crash_on_second)
    with pytest.raises(OutputError, match=r"as_of=2018/.*disk full \(simulated\)"):
        run(tmp_path, processed_dir, models, "score.scope=all_post_conflict")
    assert file_hashes(tmp_path / "scores" / "as_of=2018") == before
    leftovers = [p.name for p in (tmp_path / "scores").iterdir() if ".tmp-" in p.name]
    assert leftovers == []


def test_second_run_fails_clearly_while_lock_held(tmp_path, processed_dir, models):
    from filelock import FileLock

    scores = tmp_path / "scores"
    scores.mkdir()
    with FileLock(str(scores / ".lock")):
        start = time.monotonic()
        with pytest.raises(
            ScoreLockError, match=r"another `relapse score`.*lock_timeout_s=0.3"
        ) as info:
            run(tmp_path, processed_dir, models, "score.lock_timeout_s=0.3")
        assert time.monotonic() - start < 5
    assert info.value.exit_code == 2
    assert not (scores / "as_of=2018").exists()


def test_feature_mismatch_is_refused_with_exit_4(
    tmp_path, processed_dir, models, monkeypatch, capsys
):
    from relapse import cli

    good = models[1]
    bad = StandInModel(
        good.name,
        good.version,
        good.booster,
        [*good.feature_names[1:], "mis_troops_per_capita"],
        good.family_map,
    )
    monkeypatch.setattr(score_job, "_registered_loader", lambda *_: lambda c, h, v: bad)
    overrides = [
        FAMILIES,
        f"paths.scores_dir={tmp_path / 'scores'}",
        f"paths.processed_dir={processed_dir}",
    ]
    assert cli.main(["score", *overrides]) == 4
    err = capsys.readouterr().err
    assert "mis_troops_per_capita" in err and good.feature_names[0] in err
    assert not (tmp_path / "scores" / "as_of=2018").exists()


def test_missing_champion_is_exit_4(tmp_path, processed_dir, monkeypatch):
    from relapse import cli

    def no_champion(cfg, h, v):
        raise ModelError(f"no model relapse-h{h} with alias {v!r}")

    monkeypatch.setattr(score_job, "_registered_loader", lambda *_: no_champion)
    assert (
        cli.main(
            [
                "score",
                FAMILIES,
                f"paths.scores_dir={tmp_path / 's'}",
                f"paths.processed_dir={processed_dir}",
            ]
        )
        == 4
    )


# ----------------------------------------------------------------------------- escaping


def test_csv_injection_and_html_escaping(tmp_path, processed_dir, models):
    result = run(tmp_path, processed_dir, models)
    t = result.table.copy()
    t.loc[0, "country"] = '=HYPERLINK("http://x","click")'
    # Every horizon of one country (the brief lists hosts at war once, at the first horizon).
    t.loc[t["gwno"] == t.loc[6, "gwno"], "country"] = "<script>alert(1)</script>"
    t.loc[2, "missions"] = "+SUM(A1)"
    t.loc[3, "missions"] = "@cmd"
    t.loc[4, "iso3"] = "-1+1"
    result.table = t
    files = render_files(result)
    csv = pd.read_csv(pd.io.common.BytesIO(files["scores.csv"]), dtype=str, keep_default_na=False)
    assert csv.loc[0, "country"] == '\'=HYPERLINK("http://x","click")'
    assert csv.loc[2, "missions"] == "'+SUM(A1)"
    assert csv.loc[3, "missions"] == "'@cmd"
    assert csv.loc[4, "iso3"] == "'-1+1"
    assert csv.loc[6, "country"] == "<script>alert(1)</script>"  # not a formula: unchanged
    html = render_brief_html(result)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=HYPERLINK(&#34;http://x&#34;" in html  # markupsafe escapes quotes as &#34;


# ------------------------------------------------------------------------------ missions


def test_active_missions_2018_and_2017(data_dir):
    from omegaconf import OmegaConf

    from relapse.missions import active_missions, load_mission_tables

    overrides = OmegaConf.to_container(compose_config([]).score.mission_hosts)
    tables = load_mission_tables(data_dir)
    r18 = active_missions(tables, 2018, overrides)
    hosts = r18.hosts.set_index("gwno")
    for gw, mission in [
        (432, "MINUSMA"),
        (490, "MONUSCO"),
        (626, "UNMISS"),
        (482, "MINUSCA"),
        (660, "UNIFIL"),
        (352, "UNFICYP"),
        (625, "UNAMID"),
        (41, "MINUJUSTH"),
        (347, "UNMIK"),
        (600, "MINURSO"),
        (750, "UNMOGIP"),
        (770, "UNMOGIP"),
        (652, "UNDOF"),
        (666, "UNTSO"),
    ]:
        assert mission in hosts.at[gw, "missions"], (gw, mission)
        assert hosts.at[gw, "un"]
    assert "KFOR" in hosts.at[347, "missions"] and hosts.at[347, "non_un_evidence_year"] == 2016
    assert 450 not in hosts.index  # UNMIL ended March 2018
    assert 345 not in hosts.index  # Kosovo's missions are on Kosovo only from 2008
    assert "UNDOF" not in hosts.at[660, "missions"]
    eupol = r18.missions.loc[(r18.missions["gwno"] == 700) & (r18.missions["mission"] == "EUPOL")]
    assert eupol["status"].tolist() == ["not recorded since 2016"]
    assert r18.missions.loc[r18.missions["mission"] == "UNMOGIP", "interstate"].all()
    assert r18.undated == ["UNOHCI"]  # UNFOR has no host: excluded by the un_mission_list loader
    assert r18.non_un_last_year == 2016
    r17 = active_missions(tables, 2017, overrides).hosts.set_index("gwno")
    assert "UNMIL" in r17.at[450, "missions"]


# ------------------------------------------------------------------------------ tracking


@pytest.mark.slow
def test_run_is_logged_to_mlflow(tmp_path, processed_dir, models, monkeypatch):
    import mlflow

    cfg = make_cfg(tmp_path, processed_dir)
    result = score(cfg, load_model=lambda c, h, v: models[h])
    # mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI: monkeypatch takes it back after.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["relapse-scoring"])
    assert len(runs) == 1
    row = runs.iloc[0]
    assert row["params.data_vintage"] == result.data_vintage
    assert row["params.model_h5"] == "relapse-h5:3"
    assert row["metrics.rows"] == len(result.table)
    artifacts = mlflow.artifacts.list_artifacts(run_id=row["run_id"])
    assert [a.path for a in artifacts] == ["scores.csv"]


def test_tracking_unreachable_is_exit_4_after_writing(tmp_path, processed_dir, models, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    cfg = make_cfg(tmp_path, processed_dir, "mlflow.tracking_uri=http://127.0.0.1:9")
    with pytest.raises(ModelError, match=r"scores were written to .*127\.0\.0\.1:9"):
        score(cfg, load_model=lambda c, h, v: models[h])
    assert (tmp_path / "scores" / "as_of=2018" / "scores.csv").is_file()
