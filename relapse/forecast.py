"""The registered forecast: one object for the fitted model, its provenance and its files.

A :class:`Forecast` wraps a fitted :class:`relapse.model.HazardModel` (the interval models'
logits and LightGBM boosters, their recalibration), the feature → family map and where it came
from (registered name, version, run, data vintage). Every consumer — the batch job, the
report, the explanations — asks it for probabilities and contributions; nobody reaches into
boosters. A forecast serves one horizon (``Forecast.horizon``) of a model that forecasts all
of them, so the probabilities of one model's horizons are consistent by construction.

On disk a model is a directory (:func:`save_model`, :func:`load_model`): ``forecast.json``
(the post-conflict window that routes rows) and one sub-directory per routed hazard model
(``relapse``, ``not_at_war``), each with ``model.json`` (horizons, features in order, each
interval's logit parameters, recalibration and booster file) and one LightGBM text file per
interval. Loading never unpickles anything; every number
is validated and each booster's feature order must match the model's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MODEL_JSON = "model.json"
FORECAST_JSON = "forecast.json"
FORMAT = "relapse-hazard/1"
ROUTES: tuple[str, ...] = ("relapse", "not_at_war")


@dataclass
class Forecast:
    """A fitted relapse model serving one horizon, with its provenance."""

    model: Any
    horizon: int
    family_map: dict[str, str]
    name: str = ""
    version: str = ""
    run_id: str = ""
    data_vintage: str | None = None
    data_last_year: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        """The model's features, in the order the boosters were trained on."""
        return [str(n) for n in self.model.feature_names_in_]

    @property
    def horizons(self) -> tuple[int, ...]:
        """Every horizon the underlying model forecasts."""
        return tuple(self.model.horizons_)

    @property
    def calibration(self) -> dict[str, Any]:
        """The recalibration of each interval (for reports); empty when there is none."""
        recalibrated = {
            e: r for e, r in self.model.recalibration_.items() if (r.a, r.b) != (1.0, 0.0)
        }
        if not recalibrated:
            return {}
        kind = (
            "intercept shift"
            if all(r.a == 1.0 for r in recalibrated.values())
            else "logistic recalibration"
        )
        return {
            "method": f"{kind} on earlier origins' out-of-sample forecasts",
            "intervals": {str(e): r.to_dict() for e, r in recalibrated.items()},
        }

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        from relapse.errors import ModelError

        missing = [c for c in self.feature_names if c not in X.columns]
        if missing:
            raise ModelError(f"{self.label}: input lacks features {missing}")
        return X[self.feature_names]

    @property
    def label(self) -> str:
        """``name vversion`` (or ``model`` when unregistered)."""
        return f"{self.name} v{self.version}" if self.name else "model"

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of relapse within :attr:`horizon`, shape ``(n,)``."""
        return np.asarray(self.model.predict_proba(self._frame(X), self.horizon))

    def predict_horizons(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of every horizon, shape ``(n, len(horizons))``, non-decreasing."""
        return np.asarray(self.model.predict_horizons(self._frame(X)))

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of :meth:`predict_proba`."""
        return np.asarray(self.model.decision_function(self._frame(X), self.horizon))

    def contributions(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions to :meth:`raw_score` and the base value (exact sum)."""
        return self.model.contributions(self._frame(X), self.horizon)

    def baseline_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The conflict-history logit's part alone, composed over the intervals like the model.

        This is the baseline the model starts from (each interval's logit, without trees or
        recalibration): the like-for-like reference stored beside every published forecast.
        """
        return np.asarray(self.model.baseline_proba(self._frame(X), self.horizon))


# ------------------------------------------------------------------------------ files


def save_model(model: Any, directory: Path | str) -> list[Path]:
    """Write a fitted :class:`~relapse.model.RoutedModel` to ``directory``; return the files."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    routes = {"relapse": model.relapse, "not_at_war": model.not_at_war}
    files = []
    for name, part in routes.items():
        if part is not None:
            files += save_hazard(part, directory / name)
    path = directory / FORECAST_JSON
    spec = {
        "format": FORMAT,
        "window_years": int(model.window_years),
        "routes": [n for n, part in routes.items() if part is not None],
    }
    path.write_text(json.dumps(spec, indent=2))
    return [*files, path]


def load_model(directory: Path | str) -> Any:
    """Rebuild a :class:`~relapse.model.RoutedModel` written by :func:`save_model`.

    Raises
    ------
    ValueError
        As :func:`load_hazard`, or if ``forecast.json`` is malformed or the routed models do
        not share features and horizons.
    """
    from relapse.model import RoutedModel

    directory = Path(directory)
    try:
        spec = json.loads((directory / FORECAST_JSON).read_text(), parse_constant=_reject_constant)
        window = int(spec["window_years"])
        routes = [str(r) for r in spec["routes"]]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{FORECAST_JSON}: unreadable ({exc})") from exc
    if spec.get("format") != FORMAT or routes[:1] != ["relapse"] or not set(routes) <= set(ROUTES):
        raise ValueError(f"{FORECAST_JSON}: not a {FORMAT} model")
    if window < 1:
        raise ValueError(f"{FORECAST_JSON}: window_years must be positive")
    relapse = load_hazard(directory / "relapse")
    other = load_hazard(directory / "not_at_war") if "not_at_war" in routes else None
    if other is not None and (
        list(other.feature_names_in_) != list(relapse.feature_names_in_)
        or other.horizons_ != relapse.horizons_
    ):
        raise ValueError("the routed models do not share features and horizons")
    return RoutedModel(relapse=relapse, not_at_war=other, window_years=window)


def save_hazard(model: Any, directory: Path | str) -> list[Path]:
    """Write a fitted :class:`~relapse.model.HazardModel` to ``directory``; return the files."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    components = {}
    for end, comp in model.components_.items():
        booster_file = f"interval_h{int(end)}.lgb"
        path = directory / booster_file
        path.write_text(comp.booster_.model_to_string())
        files.append(path)
        components[str(int(end))] = {
            "booster": booster_file,
            "best_iteration": int(comp.best_iteration_),
            "n_train": int(model.n_train_.get(end, 0)),
            "logit": comp.logit_.to_dict(),
            "recalibration": model.recalibration_[end].to_dict(),
        }
    spec = {
        "format": FORMAT,
        "horizons": [int(h) for h in model.horizons_],
        "features": [str(f) for f in model.feature_names_in_],
        "history_features": [str(f) for f in model.history_features],
        "intervals": components,
    }
    path = directory / MODEL_JSON
    path.write_text(json.dumps(spec, indent=2, allow_nan=False))
    files.append(path)
    return files


def load_hazard(directory: Path | str) -> Any:
    """Rebuild a :class:`~relapse.model.HazardModel` written by :func:`save_hazard`.

    Raises
    ------
    ValueError
        If ``model.json`` is malformed, a number is not finite, or a booster's features are
        not the model's features in the same order. Booster files are only parsed after
        ``model.json`` is valid (verify checksums before calling this).
    """
    import lightgbm as lgb

    from relapse.model import BoostedLogit, HazardModel, LinearLogit, Recalibration

    directory = Path(directory)
    try:
        spec = json.loads((directory / MODEL_JSON).read_text(), parse_constant=_reject_constant)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{MODEL_JSON}: unreadable ({exc})") from exc
    if not isinstance(spec, Mapping) or spec.get("format") != FORMAT:
        raise ValueError(f"{MODEL_JSON}: not a {FORMAT} model")
    features = [str(f) for f in spec["features"]]
    horizons = tuple(int(h) for h in spec["horizons"])
    if list(horizons) != sorted(set(horizons)) or [str(h) for h in horizons] != list(
        spec["intervals"]
    ):
        raise ValueError(f"{MODEL_JSON}: intervals do not match the horizons {list(horizons)}")
    model = HazardModel(horizons=horizons, history_features=tuple(spec["history_features"]))
    model.feature_names_in_ = np.asarray(features, dtype=object)
    model.classes_ = np.array([0, 1])
    model.horizons_ = horizons
    model.components_, model.recalibration_, model.n_train_ = {}, {}, {}
    for end in horizons:
        entry = spec["intervals"][str(end)]
        comp = BoostedLogit(history_features=model.history_features)
        comp.logit_ = LinearLogit.from_dict(entry["logit"])
        unknown = [f for f in comp.logit_.features if f not in features]
        if unknown:
            raise ValueError(f"{MODEL_JSON}: logit features {unknown} are not model features")
        booster = lgb.Booster(model_str=(directory / str(entry["booster"])).read_text())
        if list(booster.feature_name()) != features:
            raise ValueError(
                f"{entry['booster']}: the booster's features are not the model's, in order"
            )
        comp.booster_ = booster
        comp.feature_names_in_ = model.feature_names_in_
        comp.n_features_in_ = len(features)
        comp.classes_ = model.classes_
        comp.best_iteration_ = int(entry["best_iteration"])
        model.components_[end] = comp
        model.recalibration_[end] = Recalibration.from_dict(entry["recalibration"])
        model.n_train_[end] = int(entry.get("n_train", 0))
    return model


def _reject_constant(name: str) -> float:
    raise ValueError(f"{MODEL_JSON}: {name} is not a finite number")
