"""Hardening (issue 16): tampered artifacts, half-finished runs, errors that escape.

Each test proves one row of ``docs/reliability.md``. A tiny registry (two horizons, conflict-
legacy features, 60 rounds) is trained once per module; tests that damage it restore what
they changed. Damage that could crash LightGBM's C parser on unverified files (a truncated
``model.lgb``) runs in a subprocess, so a regression fails the test instead of the session.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers.data import materialise
from helpers.faults import FAST, FullDiskOS, SilentServer, tmp_overrides, tree_hashes

from relapse.cli import main
from relapse.config import compose_config
from relapse.errors import ModelError

pytestmark = pytest.mark.snapshot

TWO = [*[o for o in FAST if not o.startswith("target.horizons")], "target.horizons=[1,2]"]
"""The fast training overrides with two horizons (atomic promotion needs more than one)."""


def overrides(tmp: Path, *extra: str) -> list[str]:
    return [*TWO, *tmp_overrides(tmp), *extra]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose champions relapse-h1 v1 and relapse-h2 v1 come from one run."""
    tmp = tmp_path_factory.mktemp("registry")
    assert main(["train", *overrides(tmp)]) == 0
    return tmp


def client(tmp: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def champions(tmp: Path) -> dict[int, tuple[str, str]]:
    """Horizon → (champion version, its run id)."""
    c = client(tmp)
    out = {}
    for h in (1, 2):
        mv = c.get_model_version_by_alias(f"relapse-h{h}", "champion")
        out[h] = (str(mv.version), str(mv.run_id))
    return out


def model_dir(tmp: Path, horizon: int) -> Path:
    """The stored files of the champion of ``horizon`` (the embedded artifact store)."""
    c = client(tmp)
    mv = c.get_model_version_by_alias(f"relapse-h{horizon}", "champion")
    location = c.get_model_version_download_uri(f"relapse-h{horizon}", mv.version)
    return Path(location.removeprefix("file://"))


@contextlib.contextmanager
def altered(path: Path, change: Callable[[bytes], bytes | None]) -> Iterator[None]:
    """Replace the file's bytes by ``change(bytes)`` (None: delete it); restore afterwards."""
    before = path.read_bytes() if path.exists() else None
    after = change(before or b"")
    try:
        if after is None:
            path.unlink()
        else:
            path.write_bytes(after)
        yield
    finally:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)


def no_scores(tmp: Path) -> bool:
    return not list((tmp / "scores").glob("as_of=*"))


# ------------------------------------------------------------------------------- integrity


MODEL = "artifacts/model"
"""Where a registered version keeps the relapse model directory (relapse.forecast)."""
SPEC = f"{MODEL}/relapse/model.json"
BOOSTER = f"{MODEL}/relapse/interval_h1.lgb"


def test_registration_records_a_checksum_for_every_model_file(registry):
    from relapse.registry import ARTIFACT_SHA256, artifact_digests

    for h in (1, 2):
        mv = client(registry).get_model_version_by_alias(f"relapse-h{h}", "champion")
        recorded = json.loads(mv.tags[ARTIFACT_SHA256])
        stored = artifact_digests(model_dir(registry, h))
        assert recorded == stored
        assert {"MLmodel", SPEC, BOOSTER, f"{MODEL}/forecast.json"} <= set(recorded)
        assert {f"{MODEL}/families.json", f"{MODEL}/relapse/interval_h2.lgb"} <= set(recorded)


def _spec_edit(edit: Callable[[dict], None]) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        spec = json.loads(data)
        edit(spec)
        return json.dumps(spec).encode()

    return change


def _reverse_features(spec: dict) -> None:
    spec["features"] = list(reversed(spec["features"]))


def _recalibration(value: str) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        text = data.decode()
        start = text.index('"a": ') + len('"a": ')
        end = text.index(",", start)
        return (text[:start] + value + text[end:]).encode()

    return change


def _unknown_family(data: bytes) -> bytes:
    families = json.loads(data)
    families[next(iter(families))] = "weather"
    return json.dumps(families).encode()


def _same_length_edit(data: bytes) -> bytes:
    # Every leaf value of the first tree becomes a large positive number: p = 1.0 unchecked.
    text = data.decode()
    start = text.index("leaf_value=") + len("leaf_value=")
    end = text.index("\n", start)
    values = text[start:end].split(" ")
    edited = " ".join(("9" * len(v))[: len(v)] for v in values)
    return (text[:start] + edited + text[end:]).encode()


CASES_IN_PROCESS = {
    "features-reordered": (SPEC, _spec_edit(_reverse_features)),
    "calibration-nan": (SPEC, _recalibration("NaN")),
    "calibration-infinity": (SPEC, _recalibration("Infinity")),
    "family-unknown": (f"{MODEL}/families.json", _unknown_family),
    "mlmodel-deleted": ("MLmodel", lambda _: None),
    "file-added": (f"{MODEL}/notes.txt", lambda _: b"hello"),
}


@pytest.mark.parametrize("case", sorted(CASES_IN_PROCESS))
def test_tampered_artifact_exits_4_naming_it(registry, tmp_path, capsys, case):
    artifact, change = CASES_IN_PROCESS[case]
    out = tmp_path / "out"
    with altered(model_dir(registry, 1) / artifact, change):
        code = main(["score", *overrides(registry), f"paths.scores_dir={out}"])
    err = capsys.readouterr().err
    assert code == 4, err
    assert f"relapse-h1 v1: artifact {artifact}" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists() or not list(out.glob("as_of=*"))


SCORE_IN_SUBPROCESS = textwrap.dedent("""
    import sys
    from relapse.cli import main
    sys.exit(main(["score", *sys.argv[1:]]))
""")


@pytest.mark.parametrize(
    "change",
    [lambda b: b[: len(b) // 3], _same_length_edit],
    ids=["model-truncated", "model-edited-same-length"],
)
def test_damaged_model_file_never_reaches_lightgbm(registry, tmp_path, change):
    out = tmp_path / "out"
    with altered(model_dir(registry, 1) / BOOSTER, change):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                SCORE_IN_SUBPROCESS,
                *overrides(registry),
                f"paths.scores_dir={out}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 4, (proc.returncode, proc.stderr[-2000:])
    assert f"relapse-h1 v1: artifact {BOOSTER} does not match the SHA-256" in proc.stderr
    assert not out.exists() or not list(out.glob("as_of=*"))


def test_version_without_checksums_is_refused(registry, capsys):
    from relapse.registry import ARTIFACT_SHA256

    c = client(registry)
    tag = c.get_model_version("relapse-h2", "1").tags[ARTIFACT_SHA256]
    c.delete_model_version_tag("relapse-h2", "1", ARTIFACT_SHA256)
    try:
        code = main(["score", *overrides(registry)])
    finally:
        c.set_model_version_tag("relapse-h2", "1", ARTIFACT_SHA256, tag)
    assert code == 4
    assert "relapse-h2 v1: no artifact checksums recorded" in capsys.readouterr().err
    assert no_scores(registry)


@pytest.mark.parametrize(
    ("artifact", "change", "message"),
    [
        (SPEC, _spec_edit(_reverse_features), "in order"),
        (f"{MODEL}/families.json", lambda _: b'{"x": "mission"}', "does not map exactly"),
        (SPEC, _recalibration("NaN"), "not a finite number"),
        (SPEC, _recalibration("1e999"), "finite"),
        (SPEC, _recalibration("-1.0"), "a > 0"),
        (SPEC, lambda _: b"{not json", "unreadable"),
        (f"{MODEL}/forecast.json", lambda _: b'{"format": "other"}', "forecast.json"),
    ],
)
def test_model_files_are_validated_after_their_checksum(
    registry, tmp_path, artifact, change, message
):
    """Second line of defence: a version registered with bad files (checksums match)."""
    from relapse.registry import read_artifacts

    local = tmp_path / "model"
    shutil.copytree(model_dir(registry, 1), local)
    path = local / artifact
    path.write_bytes(change(path.read_bytes()))
    with pytest.raises(ModelError, match=r"relapse-h1 v1: artifact ") as info:
        read_artifacts(local, "relapse-h1 v1")
    assert message in str(info.value)


def test_feature_order_comes_from_the_booster(registry):
    from relapse.build import build_panel
    from relapse.registry import load_registered

    cfg = compose_config(overrides(registry))
    model = load_registered(cfg, 1)
    for comp in model.model.relapse.components_.values():
        assert model.feature_names == list(comp.booster_.feature_name())
    X = build_panel(cfg).panel[model.feature_names].head(50)
    shuffled = X[list(reversed(model.feature_names))]
    pd.testing.assert_series_equal(
        pd.Series(model.predict_proba(X)), pd.Series(model.predict_proba(shuffled))
    )


def test_loading_fetches_and_checks_only_the_files_it_reads(registry, tmp_path):
    """MLmodel and the model directory, each checked; not the pyfunc's copy of the code."""
    from relapse.registry import ARTIFACT_SHA256, LOADED_PARTS, artifact_digests, fetch_registered

    cfg = compose_config(overrides(registry))
    fetched = fetch_registered(cfg, 1, "champion", tmp_path / "h1")
    recorded = json.loads(fetched.tags[ARTIFACT_SHA256])
    wanted = {p: d for p, d in recorded.items() if p == "MLmodel" or p.startswith(MODEL + "/")}
    assert LOADED_PARTS == ("MLmodel", MODEL)
    assert artifact_digests(Path(fetched.local)) == wanted
    assert any(p.startswith("code/") for p in recorded)  # there, but not fetched


SCORE_AND_REPORT_MODULES = textwrap.dedent("""
    import sys
    from relapse.cli import main
    code = main(["score", *sys.argv[1:]])
    print("mlflow" in sys.modules, "sqlalchemy" in sys.modules, code)
""")


def test_score_through_the_worker_equals_score_in_process(registry, tmp_path):
    """The MLflow worker changes where MLflow runs, not a byte of the scores; with it, the
    command's own process never imports MLflow or SQLAlchemy."""
    worker, here = tmp_path / "worker", tmp_path / "here"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            SCORE_AND_REPORT_MODULES,
            *overrides(registry),
            f"paths.scores_dir={worker}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.stdout.split()[-3:] == ["False", "False", "0"], proc.stderr[-2000:]
    code = main(
        ["score", *overrides(registry), f"paths.scores_dir={here}", "mlflow.worker_process=false"]
    )
    assert code == 0
    for name in ("scores.csv", "scores.parquet"):
        a, b = worker / "as_of=2018" / name, here / "as_of=2018" / name
        assert a.read_bytes() == b.read_bytes(), name
    assert len(client(registry).search_runs([_scoring_experiment(registry)])) >= 2


def _scoring_experiment(tmp: Path) -> str:
    return str(client(tmp).get_experiment_by_name("relapse-scoring").experiment_id)


# --------------------------------------------------------------------------- atomic training

KILL_AFTER_FIRST_REGISTRATION = textwrap.dedent("""
    import os, signal, sys
    from relapse import registry
    from relapse.cli import main

    real, calls = registry.register_model, []

    def register_then_die(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # h1 is registered (and, before the fix, promoted)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    registry.register_model = register_then_die
    sys.exit(main(["train", *sys.argv[1:]]))
""")


def test_killed_training_run_changes_no_champion(registry, capsys):
    before = champions(registry)
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_REGISTRATION, *overrides(registry, "promote=true")],
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert champions(registry) == before
    killed = client(registry).get_model_version("relapse-h1", "2")  # the killed run's candidate
    assert killed.run_id != before[1][1]

    # Killed inside the final switch (h1 moved, h2 not): scoring refuses the mix.
    c = client(registry)
    c.set_registered_model_alias("relapse-h1", "champion", "2")
    try:
        capsys.readouterr()
        code = main(["score", *overrides(registry)])
    finally:
        c.set_registered_model_alias("relapse-h1", "champion", before[1][0])
    err = capsys.readouterr().err
    assert code == 4, err
    assert "the models come from different training runs" in err
    assert killed.run_id in err and before[2][1] in err
    assert no_scores(registry)


def test_failed_report_changes_no_champion(registry, capsys, monkeypatch):
    from relapse import atomic

    before = champions(registry)
    monkeypatch.setattr(atomic, "os", FullDiskOS())
    code = main(["train", *overrides(registry, "promote=true", "report.on_train=true")])
    err = capsys.readouterr().err
    assert code == 5, err
    assert "report.html" in err and "No space left on device" in err
    assert champions(registry) == before
    runs = client(registry).search_runs(
        [client(registry).get_experiment_by_name("relapse").experiment_id],
        order_by=["attributes.start_time DESC"],
    )
    assert runs[0].info.status == "FAILED"


def test_a_run_is_promoted_all_horizons_or_none(registry):
    from relapse.registry import promote_run

    cfg = compose_config(overrides(registry))
    before = champions(registry)
    versions = {h: v for h, (v, _) in before.items()}
    # h1 would pass on its logged metric, h2 would not: neither moves.
    checks = promote_run(cfg, {1: (versions[1], 1.0), 2: (versions[2], -1.0)})
    assert not any(c.promoted for c in checks.values())
    assert checks[1].held_back_by == (2,)
    assert champions(registry) == before


# ------------------------------------------------------------------------------ panel cache


def test_edited_cached_panel_is_rebuilt_with_a_warning(tmp_path, capsys):
    args = ["build", *overrides(tmp_path)]
    assert main(args) == 0
    path = tmp_path / "processed" / "panel.parquet"
    original = pd.read_parquet(path)
    edited = original.copy()
    edited.loc[edited.index[:50], "years_since_conflict"] = 99
    edited.to_parquet(path, index=False)  # the meta file is left intact
    capsys.readouterr()
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "does not match the SHA-256 in panel.meta.json; rebuilding it" in captured.err
    assert "panel built" in captured.out
    pd.testing.assert_frame_equal(pd.read_parquet(path), original)


def test_unreadable_cached_panel_is_rebuilt(tmp_path, capsys):
    args = ["build", *overrides(tmp_path)]
    assert main(args) == 0
    path = tmp_path / "processed" / "panel.parquet"
    good = path.read_bytes()
    path.write_bytes(b"PAR1 not a parquet file")  # the meta file is left intact
    capsys.readouterr()
    assert main(args) == 0
    assert "rebuilding it" in capsys.readouterr().err
    assert path.read_bytes() == good


@pytest.mark.parametrize(
    ("override", "code", "message"),
    [
        ("data.vintage_year=2017", 3, "the data end in 2017"),
        ("features.families=[conflict_legacy,economy]", 4, "does not match the built features"),
    ],
    ids=["older-release", "feature-mismatch"],
)
def test_refused_scoring_leaves_the_cached_panel_alone(registry, capsys, override, code, message):
    processed = registry / "processed"
    before = tree_hashes(processed)
    capsys.readouterr()
    assert main(["score", *overrides(registry), override]) == code
    assert message in capsys.readouterr().err
    assert {k: v for k, v in tree_hashes(processed).items() if not k.endswith(".lock")} == {
        k: v for k, v in before.items() if not k.endswith(".lock")
    }
    assert no_scores(registry)


# --------------------------------------------------------------------------- error boundary


def test_unexpected_exception_is_one_line_with_exit_1(tmp_path, capsys, monkeypatch):
    import relapse.build

    def broken(*_: Any, **__: Any) -> None:
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(relapse.build, "build_panel", broken)
    assert main(["build", *tmp_overrides(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "error: unexpected ZeroDivisionError in relapse build: division by zero (a bug: rerun "
        "with RELAPSE_DEBUG=1 for the traceback)"
    ]
    monkeypatch.setenv("RELAPSE_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["build", *tmp_overrides(tmp_path)])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace(",", ";", 3), "missing column"),
        (lambda t: t + '"unterminated,quote\n', "malformed CSV"),
        (lambda t: t + t.splitlines()[1] + "\n", "a file listed twice"),
        (lambda t: t.replace(t.splitlines()[1].split(",")[1], "abc", 1), "64 hex digits"),
        (lambda t: t.replace(",2408,", ",24o8,", 1), "non-negative integer"),
        (lambda t: "", "malformed CSV"),
        (lambda t: t.encode("utf-16").decode("latin-1"), "MANIFEST.csv"),
    ],
    ids=["separator", "quote", "duplicate", "sha256", "rows", "empty", "encoding"],
)
def test_malformed_manifest_exits_3(data_copy, tmp_path, capsys, edit, message):
    manifest = materialise(data_copy / "MANIFEST.csv")
    manifest.write_text(edit(manifest.read_text()), encoding="latin-1")
    out = tmp_path / "out"
    for command in (["data", "check"], ["build"]):
        code = main([*command, f"paths.data_dir={data_copy}", *tmp_overrides(out)])
        err = capsys.readouterr().err
        assert code == 3, err
        assert "MANIFEST.csv" in err and message in err, err
        assert "Traceback" not in err


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("GWn", "two hundred", "column 'GWn': 1 value(s) that are not whole numbers"),
        ("cown", "2.5", "column 'cown': 1 value(s) that are not whole numbers"),
        ("GWn", None, "missing column(s) ['GWn']"),
    ],
)
def test_malformed_crosswalk_read_outside_the_loaders_is_a_data_error(
    data_dir, tmp_path, column, value, message
):
    from relapse import countries
    from relapse.errors import DataError

    path = tmp_path / countries.CROSSWALK
    path.parent.mkdir(parents=True)
    table = pd.read_csv(data_dir / countries.CROSSWALK)
    if value is None:
        table = table.drop(columns=column)
    else:
        table[column] = table[column].astype(object)
        table.loc[table.index[5], column] = value
    table.to_csv(path, index=False)
    shutil.copyfile(data_dir / countries.GW_STATES, tmp_path / countries.GW_STATES)
    for lookup in (countries.iso3_table, countries.cow_table):
        with pytest.raises(DataError, match=re.escape(f"{countries.CROSSWALK}: {message}")):
            lookup(str(tmp_path))


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable, for root too (immutable attribute), then restore it."""
    import os

    mode = path.stat().st_mode
    path.chmod(0o444)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive SQLite lock on ``path`` (another process writing)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        con.execute("ROLLBACK")
        con.close()


@contextlib.contextmanager
def corrupt(path: Path) -> Iterator[None]:
    with altered(path, lambda b: b"not a database " * 1000 + b[15000:]):
        yield


@pytest.mark.parametrize("command", ["train", "score"])
@pytest.mark.parametrize(
    "fault", [corrupt, locked, read_only], ids=["corrupt", "locked", "read-only"]
)
def test_broken_mlflow_store_exits_4_in_one_line(registry, tmp_path, capsys, command, fault):
    before = champions(registry)
    scores = tmp_path / "scores"
    start = time.monotonic()
    with fault(registry / "mlflow.db"):
        code = main(
            [command, *overrides(registry, f"paths.scores_dir={scores}", "mlflow.deadline_s=4")]
        )
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == 4, err
    if command == "score" and fault is read_only:
        # Reading works; the scores are written, then logging the run fails (documented).
        assert "but logging the run to MLflow" in err, err
    else:
        assert err.startswith("error: MLflow "), err
        assert not list(scores.glob("as_of=*"))
    assert len(err.strip().splitlines()) == 1, err
    assert elapsed < 60, elapsed
    assert champions(registry) == before


class NotFoundPages(http.server.BaseHTTPRequestHandler):
    """A web server that is not MLflow: 404 HTML pages for every path."""

    def _page(self) -> None:
        body = b"<html><body><h1>404 Not Found</h1></body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _page

    def log_message(self, *_: Any) -> None:
        return


@pytest.mark.parametrize("command", ["train", "score"])
def test_server_answering_404_pages_is_not_no_champion(tmp_path, capsys, command):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFoundPages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code = main([command, *overrides(tmp_path), f"mlflow.tracking_uri={uri}"])
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert code == 4, err
    assert "no champion" not in err
    assert f"failed at {uri}" in err and "404" in err
    assert not (tmp_path / "processed").exists()


def test_tracking_deadline_bounds_all_retries(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    server = SilentServer()
    uri = f"http://127.0.0.1:{server.port}"
    start = time.monotonic()
    try:
        # Without a deadline: 6 attempts of 2 s plus 2+4+8+16 s of backoff, about 42 s.
        code = main(
            [
                "score",
                *overrides(tmp_path),
                f"mlflow.tracking_uri={uri}",
                "mlflow.request_timeout_s=2",
                "mlflow.max_retries=5",
                "mlflow.deadline_s=3",
            ]
        )
    finally:
        server.close()
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == 4, err
    assert "did not finish within mlflow.deadline_s=3s" in err
    assert elapsed < 8, elapsed


@pytest.mark.parametrize("command", ["build", "score"])
def test_output_directory_that_cannot_be_created_exits_5(registry, tmp_path, capsys, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    key = "paths.processed_dir" if command == "build" else "paths.scores_dir"
    code = main([command, *overrides(registry), f"{key}={blocker / 'sub'}"])
    err = capsys.readouterr().err
    assert code == 5, err
    assert f"could not create the output directory {blocker / 'sub'}" in err
    assert len(err.strip().splitlines()) == 1, err


BAD_VALUES = [
    ("seed=-1", "seed must be"),
    ("data.vintage_year=1800", "data.vintage_year must be"),
    ("split.first_origin=3000", "split.first_origin must be"),
    ("split.last_origin=1990", "split.last_origin must be"),
    ("split.bootstrap_samples=-5", "split.bootstrap_samples must be"),
    ("model.num_boost_round=0", "model.num_boost_round must be"),
    ("model.early_stopping_rounds=0", "model.early_stopping_rounds must be"),
    ("model.params.learning_rate=0", "model.params.learning_rate must be in (0"),
    ("model.params.learning_rate=fast", "model.params.learning_rate must be a number"),
    ("model.params.num_leaves=1", "model.params.num_leaves must be in [2"),
    ("model.params.feature_fraction=1.5", "model.params.feature_fraction must be in (0, 1]"),
    ("model.params.bagging_fraction=0", "model.params.bagging_fraction must be in (0, 1]"),
    ("model.params.lambda_l2=-1", "model.params.lambda_l2 must be in [0"),
    ("model.params.max_bin=1", "model.params.max_bin must be in [2"),
    ("mlflow.request_timeout_s=0", "mlflow.request_timeout_s must be"),
    ("mlflow.max_retries=-1", "mlflow.max_retries must be"),
    ("mlflow.backoff_factor=-1", "mlflow.backoff_factor must be"),
    ("mlflow.deadline_s=0", "mlflow.deadline_s must be"),
    ("report.top_features=0", "report.top_features must be"),
    ("report.risk_band_multiples=[3,1.5,0.5]", "three increasing positive multiples"),
    ("report.risk_band_multiples=[0.5,1.5]", "three increasing positive multiples"),
    ("report.top_k=0", "report.top_k must be 1-1000"),
    ("report.horizons=[7]", "report.horizons [7] are not in target.horizons"),
    ("score.as_of=1800", "score.as_of must be"),
    ("score.lock_timeout_s=-1", "score.lock_timeout_s must be"),
    ("target.first_year=1500", "target.first_year must be"),
]


@pytest.mark.parametrize(("override", "message"), BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_config_value_out_of_range_is_rejected_at_compose_time(override, message):
    from relapse.errors import ConfigError

    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        compose_config([override])


@pytest.mark.parametrize("command", ["train", "score"])
@pytest.mark.parametrize("override", ["score.as_of=1800", "model.num_boost_round=0"])
def test_config_out_of_range_exits_2_before_any_work(tmp_path, capsys, command, override):
    assert main([command, *tmp_overrides(tmp_path), override]) == 2
    assert override.split("=")[0] in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
