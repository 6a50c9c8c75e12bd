"""Bad inputs and faults end to end: each proves one row of ``docs/reliability.md``.

Exit codes and messages are checked through the command line (``relapse.cli.main``), and so
is what is (not) written. Faults are simulated, never provoked on the real machine: a full
disk is an ``OSError(ENOSPC)`` raised inside the atomic writers, a dead tracking server is a
closed port, a hanging one is a socket on 127.0.0.1 that reads and never answers.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.data import (
    ACD,
    duplicate_row,
    edit,
    future_year,
    header_rename,
    string_in_number,
)
from helpers.faults import FAST, FullDiskOS, SilentServer, tmp_overrides, tree_hashes
from helpers.scoring import FAMILIES, file_hashes, make_cfg, run
from helpers.training import free_port

from relapse.cli import main
from relapse.errors import OutputError
from relapse.scoring import job as score_job
from relapse.scoring import outputs as score_outputs

pytestmark = pytest.mark.snapshot


def temp_files(root: Path) -> list[str]:
    """Leftovers of the atomic writers (``.name.xxx.tmp`` files, ``.as_of=Y.tmp-`` dirs)."""
    return [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.name.endswith(".tmp") or ".tmp-" in p.name
    ]


@pytest.fixture(autouse=True)
def _isolated_mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """``tracking.configure`` writes these variables (unless the user set them): start each
    test without them, so the test's config applies, and restore them after."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name in (
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
    ):
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("target.horizons=[0]", "horizons must be positive"),
        ("features.source_lags.ucdp_acd=-1", "must be >= 0"),
        ("features.families=[mission,weather]", "unknown families"),
        ("target.windw=3", "windw"),
        ("model.calibration=sigmoid", "calibration"),
    ],
)
@pytest.mark.parametrize("command", ["build", "train", "score"])
def test_bad_config_exits_2_before_any_work(tmp_path, capsys, command, override, message):
    assert main([command, *tmp_overrides(tmp_path), override]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no panel, no store, no scores


def test_argument_that_is_not_an_override_exits_2(tmp_path, capsys):
    assert main(["build", *tmp_overrides(tmp_path), "oops"]) == 2
    assert "not a key=value override: oops" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- raw sources


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (header_rename, r"missing column\(s\) \['type_of_conflict'\]"),
        (string_in_number, "column 'conflict_id'"),
        (duplicate_row, "conflict_id' fails multiple_fields_uniqueness"),
        (future_year, "year 2031 is in the future"),
    ],
    ids=["renamed-column", "string-in-number", "duplicate-key", "future-year"],
)
def test_malformed_source_exits_3_and_writes_nothing(data_copy, tmp_path, capsys, alter, message):
    import re

    edit(data_copy / ACD, alter)
    out = tmp_path / "out"
    code = main(
        ["build", f"paths.data_dir={data_copy}", "data.verify_checksums=false", *tmp_overrides(out)]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert ACD in err and re.search(message, err), err
    # Nothing but the build's lock file: no panel, no metadata, no temporary file.
    assert [p.name for p in out.rglob("*") if p.is_file() and p.suffix != ".lock"] == []


# ----------------------------------------------------------------------------- full disk


def test_full_disk_on_build_exits_5_and_keeps_the_previous_panel(tmp_path, capsys, monkeypatch):
    import relapse.atomic

    overrides = [FAMILIES, *tmp_overrides(tmp_path)]
    assert main(["build", *overrides]) == 0
    before = tree_hashes(tmp_path / "processed")
    monkeypatch.setattr(relapse.atomic, "os", FullDiskOS())
    capsys.readouterr()
    assert main(["build", "--force", *overrides]) == 5
    err = capsys.readouterr().err
    assert str(tmp_path / "processed" / "panel.parquet") in err
    assert "No space left on device" in err
    assert tree_hashes(tmp_path / "processed") == before
    assert temp_files(tmp_path) == []


def test_full_disk_on_score_exits_5_and_keeps_the_previous_scores(
    tmp_path, processed_dir, models, capsys, monkeypatch
):
    first = run(tmp_path, processed_dir, models)
    before = file_hashes(first.out_dir)
    real = score_outputs._write_file
    written: list[str] = []

    def half_then_full(path: Path, data: bytes) -> None:
        written.append(path.name)
        if len(written) == 2:
            real(path, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(score_job, "_registered_loader", lambda *_: lambda c, h, v: models[h])
    monkeypatch.setattr(score_outputs, "_write_file", half_then_full)
    overrides = [
        FAMILIES,
        f"paths.scores_dir={tmp_path / 'scores'}",
        f"paths.processed_dir={processed_dir}",
        f"mlflow.tracking_uri=sqlite:///{tmp_path / 'mlflow.db'}",
        f"mlflow.artifact_root={tmp_path / 'mlartifacts'}",
        "score.scope=all_post_conflict",
    ]  # other rows: other files, a real write
    capsys.readouterr()
    assert main(["score", *overrides]) == 5
    err = capsys.readouterr().err
    assert f"as_of=2018/{written[1]}" in err and "No space left on device" in err
    assert file_hashes(tmp_path / "scores" / "as_of=2018") == before
    assert temp_files(tmp_path / "scores") == []


@pytest.mark.parametrize("writer", ["write_report", "write_parquet"])
def test_full_disk_on_report_keeps_the_previous_file(tmp_path, monkeypatch, writer):
    from relapse import atomic
    from relapse.report import render

    write = getattr(render, writer)
    name, old, new = (
        ("report.html", "<p>old</p>", "<p>new</p>")
        if writer == "write_report"
        else ("shap.parquet", pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]}))
    )
    path = write(tmp_path / "reports" / name, old)
    before = path.read_bytes()
    monkeypatch.setattr(atomic, "os", FullDiskOS())
    with pytest.raises(OutputError, match=rf"{path}: No space left on device") as info:
        write(path, new)
    assert info.value.exit_code == 5
    assert path.read_bytes() == before
    assert temp_files(tmp_path) == []


# ------------------------------------------------------------------ killed while writing

KILL_MIDWAY = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from filelock import FileLock
    from relapse.scoring import outputs

    real, seen = outputs._write_file, []

    def killed_on_second(path, data):
        seen.append(path)
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        real(path, data)

    outputs._write_file = killed_on_second
    scores = Path(sys.argv[1])
    with FileLock(str(scores / ".lock")):
        outputs.write_outputs({n: b"new " + n.encode() for n in outputs.FILES}, scores, 2018)
""")


def test_scoring_run_killed_midway_leaves_previous_outputs(tmp_path):
    from filelock import FileLock

    from relapse.scoring.outputs import FILES, write_outputs

    scores = tmp_path / "scores"
    scores.mkdir()
    old = write_outputs({n: b"old " + n.encode() for n in FILES}, scores, 2018)
    before = file_hashes(old)
    proc = subprocess.run(
        [sys.executable, "-c", KILL_MIDWAY, str(scores)], timeout=60, capture_output=True
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert file_hashes(scores / "as_of=2018") == before  # readers still see the old set
    assert temp_files(scores), "the kill should leave its temporary directory behind"
    with FileLock(str(scores / ".lock")).acquire(timeout=1):  # the dead run's lock is free
        new = write_outputs({n: b"new " + n.encode() for n in FILES}, scores, 2018)
    assert (new / "scores.csv").read_bytes() == b"new scores.csv"
    assert temp_files(scores) == []  # the next run sweeps the leftover


# -------------------------------------------------------------------------- tracking server


@pytest.fixture
def silent_server():  # type: ignore[no-untyped-def]
    server = SilentServer()
    yield server
    server.close()


RETRIES = 2
TIMEOUT_S = 1


@pytest.mark.parametrize("command", ["train", "score"])
@pytest.mark.parametrize("server", ["unreachable", "silent"])
def test_tracking_server_down_or_silent_exits_4_after_retries(
    tmp_path, capsys, monkeypatch, request, command, server
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    if server == "silent":
        silent = request.getfixturevalue("silent_server")
        port = silent.port
    else:
        port = free_port()  # nothing listens: connection refused
    uri = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    code = main(
        [
            command,
            *FAST,
            *tmp_overrides(tmp_path),
            f"mlflow.tracking_uri={uri}",
            f"mlflow.request_timeout_s={TIMEOUT_S}",
            f"mlflow.max_retries={RETRIES}",
            "mlflow.backoff_factor=1",
        ]
    )
    elapsed = time.monotonic() - start
    assert code == 4
    err = capsys.readouterr().err
    assert f"failed at {uri}" in err
    # urllib3's exponential backoff with factor 1 sleeps 0 s, then 2 s between the attempts.
    backoff = 2.0
    if server == "silent":
        assert silent.connections == RETRIES + 1, silent.connections
        assert "timed out" in err.lower()
        assert elapsed >= (RETRIES + 1) * TIMEOUT_S + backoff - 0.5, elapsed
    else:
        assert elapsed >= backoff - 0.5, elapsed
    assert elapsed < 25, elapsed
    # Refused before any work: no panel built, no scores written.
    assert not (tmp_path / "processed").exists()
    assert not list((tmp_path / "scores").glob("as_of=*"))


# ------------------------------------------------------------------------------- registry


def test_registry_without_champion_exits_4_and_writes_nothing(tmp_path, capsys):
    assert main(["score", *FAST, *tmp_overrides(tmp_path)]) == 4
    assert "no champion for relapse-h1; run relapse train" in capsys.readouterr().err
    assert not (tmp_path / "processed").exists()
    assert not list((tmp_path / "scores").glob("as_of=*"))


# ---------------------------------------------------------------- data release going back


@pytest.fixture(scope="module")
def trained_2018(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry whose champion relapse-h1 v1 was trained on data up to 2018."""
    tmp = tmp_path_factory.mktemp("vintage")
    assert main(["train", *FAST, *tmp_overrides(tmp)]) == 0
    return tmp


def _versions(tmp: Path) -> tuple[list[str], int]:
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = sorted(v.version for v in client.search_model_versions("name='relapse-h1'"))
    runs = client.search_runs([client.get_experiment_by_name("relapse").experiment_id])
    return versions, len(runs)


def test_champion_records_the_last_year_of_its_data(trained_2018):
    from relapse.config import compose_config
    from relapse.registry import champion_data_last_year, load_registered

    cfg = compose_config([*FAST, *tmp_overrides(trained_2018)])
    assert champion_data_last_year(cfg, 1) == ("1", 2018)
    assert load_registered(cfg, 1).data_last_year == 2018


def test_train_refuses_an_older_release_before_any_work(trained_2018, capsys):
    before = _versions(trained_2018)
    panel_meta = (trained_2018 / "processed" / "panel.meta.json").read_bytes()
    code = main(["train", *FAST, *tmp_overrides(trained_2018), "data.vintage_year=2017"])
    assert code == 3
    err = capsys.readouterr().err
    assert "the data end in 2017" in err and "trained on data up to 2018" in err
    assert "allow_older_vintage=true" in err
    assert _versions(trained_2018) == before  # no run, no new version
    assert (trained_2018 / "processed" / "panel.meta.json").read_bytes() == panel_meta


def test_allow_older_vintage_skips_the_check(trained_2018, monkeypatch):
    from relapse.config import compose_config
    from relapse.train import refuse_older_vintage

    def no_registry(*_: Any) -> None:
        raise AssertionError("the registry must not be asked")

    cfg = compose_config(
        [*FAST, *tmp_overrides(trained_2018), "data.vintage_year=2017", "allow_older_vintage=true"],
    )
    monkeypatch.setattr("relapse.registry.champion_data_last_year", no_registry)
    refuse_older_vintage(cfg, [1])


def test_score_refuses_a_champion_trained_on_later_data(trained_2018, capsys):
    code = main(["score", *FAST, *tmp_overrides(trained_2018), "data.vintage_year=2017"])
    assert code == 3
    err = capsys.readouterr().err
    assert "the data end in 2017" in err and "relapse-h1 v1" in err
    assert "trained on data up to 2018" in err
    assert not list((trained_2018 / "scores").glob("as_of=*"))


# -------------------------------------------------------------------------- injection text

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil")'


def test_injection_text_in_country_names_is_inert(tmp_path, processed_dir, models, monkeypatch):
    """Hostile country names reach the scores (CSV, brief) and the report inert."""

    import markupsafe

    from relapse import build
    from relapse.features import registry_table
    from relapse.report import build_context, render_report
    from relapse.scoring.brief import md_text
    from relapse.scoring.job import compute_scores
    from relapse.scoring.outputs import render_files

    cfg = make_cfg(tmp_path, processed_dir, "score.scope=all_post_conflict")
    built = build.build_panel(cfg)
    panel = built.panel.copy()
    pop = panel.loc[(panel["year"] == 2018) & panel["in_population"]].sort_values("gwno")
    (gw_script, iso_script), (gw_formula, iso_formula) = pop[["gwno", "iso3"]].head(2).values
    panel["country"] = panel["country"].astype(object)
    panel.loc[panel["gwno"] == gw_script, "country"] = SCRIPT
    panel.loc[panel["gwno"] == gw_formula, "country"] = FORMULA
    panel["country"] = panel["country"].astype("string")
    hostile = build.BuildResult(
        panel, built.path, built.input_hash, built.data_vintage, cached=True, notes={}
    )
    monkeypatch.setattr(build, "build_panel", lambda *a, **k: hostile)

    result = compute_scores(cfg, load_model=lambda c, h, v: models[h])
    scored = result.table.set_index("gwno")
    assert (scored.loc[[gw_script, gw_formula], "status"] == "scored").all()
    files = render_files(result)

    csv = pd.read_csv(pd.io.common.BytesIO(files["scores.csv"]), dtype=str, keep_default_na=False)
    assert set(csv.loc[csv["iso3"] == iso_formula, "country"]) == {"'" + FORMULA}
    assert set(csv.loc[csv["iso3"] == iso_script, "country"]) == {SCRIPT}  # not a formula
    assert not csv["country"].str.startswith(("=", "+", "-", "@")).any()
    brief = files["brief.html"].decode()
    assert "<script" not in brief.lower()
    # Rendered through Jinja's autoescape (markupsafe writes a quote as &#34;).
    assert str(markupsafe.escape(SCRIPT)) in brief and str(markupsafe.escape(FORMULA)) in brief
    # Markdown viewers render raw HTML, so the Markdown brief escapes it too.
    markdown = files["brief.md"].decode()
    assert "<script" not in markdown.lower()
    assert md_text(SCRIPT) in markdown and "&lt;script&gt;" in md_text(SCRIPT)

    context = build_context(
        panel,
        models,
        registry_table(cfg),
        as_of=2018,
        options={"countries": [iso_script, iso_formula]},
    )
    report = render_report(context)
    assert "<script" not in report.lower()
    assert str(markupsafe.escape(SCRIPT)) in report
    assert str(markupsafe.escape(FORMULA)) in report


def test_exit_codes_are_stable_and_documented() -> None:
    """The documented exit codes (README, cli.EPILOG, relapse.errors) are stable."""
    from relapse import cli, errors

    codes = {
        cls.__name__: cls.exit_code
        for cls in (
            errors.ConfigError,
            errors.DataError,
            errors.ModelError,
            errors.OutputError,
            score_job.ScoreLockError,
        )
    }
    assert codes == {
        "ConfigError": 2,
        "DataError": 3,
        "ModelError": 4,
        "OutputError": 5,
        "ScoreLockError": 2,
    }
    assert "5 output not written" in cli.EPILOG
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "**5** outputs could not be written" in readme
