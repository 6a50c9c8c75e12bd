"""The analyst report: sections, escaping, self-containment, options, verdicts, atomic write."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import synthetic_explain as syn

from relapse.errors import ConfigError
from relapse.report import build_context, make_report, render_report, write_report

SECTIONS = ("headline", "countries", "drivers", "skill", "caveats")
COUNTRIES = ["S00", "101", "S02", "S03"]


@pytest.fixture(scope="module")
def frame(synthetic_frame) -> pd.DataFrame:
    return synthetic_frame


@pytest.fixture(scope="module")
def boosters(synthetic_boosters) -> dict:
    return synthetic_boosters


@pytest.fixture(scope="module")
def backtest(synthetic_backtest) -> pd.DataFrame:
    return synthetic_backtest


@pytest.fixture(scope="module")
def models(boosters) -> dict:
    return syn.forecasts(boosters)


@pytest.fixture(scope="module")
def context(frame, models, backtest) -> dict:
    return build_context(
        frame,
        models,
        syn.registry(),
        metrics=syn.metrics(backtest),
        backtest=backtest,
        options={"countries": COUNTRIES},
        data_vintage="abc123",
    )


@pytest.fixture(scope="module")
def html(context) -> str:
    return render_report(context)


def test_every_section_has_its_id(html, context):
    for section in SECTIONS:
        assert f'id="{section}"' in html
    for c in context["countries"]:
        assert f'id="{c["anchor"]}"' in html
    assert len(context["countries"]) == len(COUNTRIES)


def test_self_contained_no_network_no_script(html):
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html.lower()
    assert html.count('src="data:image/png;base64,') >= 2 * len(COUNTRIES) + 3


def test_data_strings_are_escaped(html):
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in html
    assert "<b>1</b>" not in html and "&lt;b&gt;1&lt;/b&gt;" in html


def test_headline_ranks_by_risk_with_bands_and_change(context):
    for table in context["headline"]:
        risks = [float(r["risk"].rstrip("%").replace("<1", "0")) for r in table["rows"]]
        assert risks == sorted(risks, reverse=True)
        assert {r["band"] for r in table["rows"]} <= {"low", "moderate", "elevated", "high"}
        assert all(r["range"] != "—" for r in table["rows"])
        assert all(r["change"]["available"] for r in table["rows"])


def test_country_section_has_top_features_in_plain_words(context):
    card = context["countries"][0]["horizons"][0]
    assert len(card["top_features"]) == 5
    first = card["top_features"][0]
    assert first["description"].startswith("Synthetic")
    assert first["effect"].endswith(("raises risk", "lowers risk"))
    assert "changed" in card and card["changed"]["text"].startswith("Risk ")


def test_coverage_and_vintage_in_caveats(context, html):
    services = [r for r in context["caveats"]["coverage"] if r["family"] == "Basic services"]
    assert services and services[0]["missing_all"] != "0%"
    assert "abc123" in html
    assert "not causal" in html.lower() or "association, not cause" in html.lower()


def test_verdict_when_model_beats_history(context, html):
    assert all(t["verdict"]["beats"] for t in context["skill"]["tables"])
    assert "does NOT beat" not in html
    assert "base rate" in html


def test_verdict_says_plainly_when_model_does_not_beat_history(frame, models, backtest):
    ctx = build_context(
        frame,
        models,
        syn.registry(),
        metrics=syn.metrics(backtest, model_wins=False),
        backtest=backtest,
        options={"countries": COUNTRIES[:2]},
    )
    html = render_report(ctx)
    assert "does NOT beat the conflict-history baseline" in html


def test_training_metrics_table_naming_model_is_understood(frame, models, backtest):
    metrics = syn.metrics(backtest)
    metrics["model"] = metrics["model"].replace({"lightgbm": "model"})
    ctx = build_context(
        frame,
        models,
        syn.registry(),
        metrics=metrics,
        backtest=backtest,
        options={"countries": COUNTRIES[:1]},
    )
    assert all(t["verdict"]["beats"] for t in ctx["skill"]["tables"])


def test_without_backtest_the_report_says_so(frame, models):
    ctx = build_context(frame, models, syn.registry(), options={"countries": ["S01"]})
    html = render_report(ctx)
    assert "cannot say how well the model has done" in html
    assert "No range is shown" in html


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"countries": ["XXX"]}, "not an ISO3 code or GW number"),
        ({"horizons": [7]}, r"report.horizons \[7\] have no model"),
    ],
)
def test_bad_options_fail_loudly(frame, models, options, match):
    with pytest.raises(ConfigError, match=match):
        build_context(frame, models, syn.registry(), options=options)


def test_horizon_option_limits_the_report(frame, models):
    ctx = build_context(
        frame, models, syn.registry(), options={"horizons": [2], "countries": ["S01"]}
    )
    assert ctx["horizons"] == [2]
    assert [t["horizon"] for t in ctx["headline"]] == [2]


def test_country_not_post_conflict_is_listed_not_scored(frame, models):
    last = frame["year"].max()
    active = frame.loc[(frame["year"] == last) & ~frame["in_population"], "iso3"].iloc[0]
    ctx = build_context(frame, models, syn.registry(), options={"countries": ["S01", active]})
    assert len(ctx["countries"]) == 1
    assert any("not post-conflict" in n for n in ctx["not_scored"])


def test_write_report_is_atomic_and_leaves_no_temp_files(tmp_path, html):
    path = write_report(tmp_path / "sub" / "report.html", html)
    assert path.read_text(encoding="utf-8") == html
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]
    write_report(path, "<p>second</p>")
    assert path.read_text() == "<p>second</p>"


def test_make_report_end_to_end(tmp_path, frame, models):
    path = make_report(
        tmp_path / "r.html", frame, models, syn.registry(), options={"countries": ["S01"]}
    )
    assert Path(path).stat().st_size > 10_000


def test_shipped_configs_compose():
    from relapse.config import compose_config

    cfg = compose_config(["report.countries=[AFG,625]", "report.horizons=[1]"])
    assert list(cfg.report.countries) == ["AFG", "625"]
    assert cfg.report.model_version == "champion"


def test_global_view_samples_rows_but_scored_countries_are_complete(frame, models):
    ctx = build_context(
        frame, models, syn.registry(), options={"countries": ["S01", "S02"]}, global_rows=300
    )
    assert ctx["drivers"]["n_rows"] <= 300 + 4  # the sample, plus scored rows it missed
    assert ctx["drivers"]["n_population"] > 300
    for country in ctx["countries"]:
        assert all(card["top_features"] for card in country["horizons"])
        assert all(card["changed"]["available"] for card in country["horizons"])


def test_calibrated_registered_model_is_described_in_words(frame, boosters):
    from relapse.explain import BoosterHazard, BoosterModel
    from relapse.forecast import Forecast
    from relapse.model import Recalibration

    class Recalibrated(BoosterHazard):  # a booster whose interval was recalibrated
        @property
        def recalibration_(self):
            return {self.horizon: Recalibration(a=0.8, b=-0.2, n_fit=300)}

    provenance = {"name": "relapse-h1", "version": "3", "run_id": "abc", "data_vintage": "v1"}
    models = {
        h: Forecast(Recalibrated(BoosterModel(b), h), h, syn.family_map(), **provenance)
        for h, b in boosters.items()
    }
    ctx = build_context(
        frame, models, syn.registry(), options={"countries": ["S01"]}, data_vintage="v2"
    )
    html = render_report(ctx)
    assert "logistic recalibration" in html
    assert "'method'" not in html and "intervals" not in html
    assert ctx["caveats"]["vintage_mismatch"]
    assert "different data version" in html


def test_model_without_recalibration_says_none(context):
    assert [m["calibration"] for m in context["model"]["rows"]] == ["none"] * len(
        context["model"]["rows"]
    )


@pytest.mark.parametrize("command", ["explain", "report"])
def test_cli_commands_exist_and_compose(command, capsys):
    from relapse.cli import main

    assert main([command, "--cfg", "report.countries=[LBN]"]) == 0
    assert "countries:\n  - LBN" in capsys.readouterr().out
