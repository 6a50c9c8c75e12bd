"""The models: LightGBM (native API), its in-fold calibrator, and the two baselines.

Everything here that learns follows the scikit-learn estimator contract: ``__init__`` only
stores its arguments, learned attributes end in ``_``, ``random_state`` is honoured. Nothing
is fitted on rows outside the training window it is given; the LightGBM model and its
calibrator see the validation slice only through the ``validation`` mask passed to ``fit``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HISTORY_FEATURES: tuple[str, ...] = (
    "leg_years_at_peace",
    "leg_past_episodes",
    "leg_last_episode_years",
    "leg_cumulative_war_years",
)
"""Inputs of the conflict-history baseline (conflict_legacy family)."""

CALIBRATIONS: tuple[str, ...] = ("none", "isotonic", "platt")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype="float64")))


def _as_array(y: Any) -> np.ndarray:
    return np.asarray(pd.Series(y).astype("float64").to_numpy(), dtype="float64")


# ------------------------------------------------------------------------------ calibration


class Calibrator(BaseEstimator):
    """Map LightGBM log-odds to calibrated probabilities; JSON-serialisable, no pickle.

    Parameters
    ----------
    method
        ``"none"`` (identity: sigmoid of the score), ``"platt"`` (logistic regression on the
        log-odds) or ``"isotonic"`` (monotone step function of the log-odds, interpolated).
    """

    def __init__(self, method: str = "none") -> None:
        self.method = method

    def fit(self, raw_score: np.ndarray, y: Any) -> Calibrator:
        """Fit on the validation slice's log-odds and labels."""
        if self.method not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {self.method!r}")
        z = np.asarray(raw_score, dtype="float64")
        yy = _as_array(y)
        self.n_fit_ = len(z)
        self.params_: dict[str, Any]
        if self.method == "platt":
            if len(np.unique(yy)) < 2:
                self.params_ = {"a": 1.0, "b": 0.0}
            else:
                lr = LogisticRegression(C=1e6, max_iter=1000).fit(z.reshape(-1, 1), yy)
                self.params_ = {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
        elif self.method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(z, yy)
            self.params_ = {
                "x": [float(v) for v in iso.X_thresholds_],
                "y": [float(v) for v in iso.y_thresholds_],
            }
        else:
            self.params_ = {}
        return self

    def transform(self, raw_score: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for log-odds ``raw_score``."""
        z = np.asarray(raw_score, dtype="float64")
        if self.method == "platt":
            return _sigmoid(self.params_["a"] * z + self.params_["b"])
        if self.method == "isotonic":
            x, y = self.params_["x"], self.params_["y"]
            if len(x) == 0:
                return _sigmoid(z)
            return np.interp(z, np.asarray(x), np.asarray(y))
        return _sigmoid(z)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (``method``, ``params``, ``n_fit``)."""
        return {"method": self.method, "params": self.params_, "n_fit": int(self.n_fit_)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        """Rebuild a fitted calibrator from :meth:`to_dict` output."""
        cal = cls(method=str(data["method"]))
        cal.params_ = dict(data.get("params", {}))
        cal.n_fit_ = int(data.get("n_fit", 0))
        return cal


# --------------------------------------------------------------------------------- LightGBM


class LightGBMRelapse(ClassifierMixin, BaseEstimator):
    """Binary LightGBM trained with ``lgb.train``, early stopping on an in-window slice.

    ``fit(X, y, validation=mask)`` trains on the rows outside ``mask`` and stops early on the
    rows inside it (the last ``split.validation_years`` years of the training window); the
    calibrator (if any) is fitted on the validation rows' out-of-sample scores. With
    ``refit=True`` the booster is then retrained on *all* rows of the window with the
    early-stopped number of rounds, which is what the final model does too.

    Parameters
    ----------
    params
        LightGBM parameters (``objective`` defaults to ``binary``).
    num_boost_round
        Upper bound on boosting rounds.
    early_stopping_rounds
        Patience of early stopping (rounds without improvement in validation log loss).
    calibration
        ``none``, ``isotonic`` or ``platt``.
    refit
        Retrain on the whole window with the chosen number of rounds.
    num_threads
        LightGBM threads (None: ``params["num_threads"]`` or LightGBM's default).
    deterministic
        Pass ``deterministic=True`` (and row-wise histograms) to LightGBM.
    random_state
        Seed of every LightGBM random choice (bagging, feature fraction).
    """

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        num_boost_round: int = 400,
        early_stopping_rounds: int = 40,
        calibration: str = "none",
        refit: bool = True,
        num_threads: int | None = None,
        deterministic: bool = True,
        random_state: int | None = 0,
    ) -> None:
        self.params = params
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.calibration = calibration
        self.refit = refit
        self.num_threads = num_threads
        self.deterministic = deterministic
        self.random_state = random_state

    def _lgb_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"objective": "binary", "verbosity": -1}
        params.update(dict(self.params or {}))
        params["metric"] = "binary_logloss"
        if self.num_threads is not None:
            params["num_threads"] = int(self.num_threads)
        if self.deterministic:
            params["deterministic"] = True
            params.setdefault("force_row_wise", True)
        if self.random_state is not None:
            params["seed"] = int(self.random_state)
        return params

    def fit(self, X: pd.DataFrame, y: Any, validation: Any = None) -> LightGBMRelapse:
        """Fit on ``X``; rows where ``validation`` is true are held out for early stopping.

        Parameters
        ----------
        X
            Feature frame (float, NaN allowed).
        y
            Binary labels (no missing values).
        validation
            Boolean mask over the rows of ``X`` (None: no early stopping, train
            ``num_boost_round`` rounds on every row, no calibration).

        Returns
        -------
        LightGBMRelapse
            ``self``.
        """
        X = pd.DataFrame(X)
        yy = _as_array(y)
        if np.isnan(yy).any():
            raise ValueError("labels contain missing values: censored rows must be dropped")
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        names = list(self.feature_names_in_)
        params = self._lgb_params()
        values = X.to_numpy(dtype="float64")
        val = (
            np.zeros(len(X), dtype=bool)
            if validation is None
            else np.asarray(validation, dtype=bool)
        )
        self.calibrator_: Calibrator | None = None
        if val.any() and (~val).any():
            fit_set = lgb.Dataset(values[~val], yy[~val], feature_name=names, free_raw_data=False)
            val_set = lgb.Dataset(values[val], yy[val], reference=fit_set)
            booster = lgb.train(
                params,
                fit_set,
                num_boost_round=int(self.num_boost_round),
                valid_sets=[val_set],
                valid_names=["validation"],
                callbacks=[lgb.early_stopping(int(self.early_stopping_rounds), verbose=False)],
            )
            self.best_iteration_ = max(
                int(booster.best_iteration or booster.current_iteration()), 1
            )
            val_score = booster.predict(
                values[val], num_iteration=self.best_iteration_, raw_score=True
            )
            if self.calibration != "none":
                self.calibrator_ = Calibrator(self.calibration).fit(
                    np.asarray(val_score), np.asarray(yy)[val]
                )
            if self.refit:
                booster = lgb.train(
                    params,
                    lgb.Dataset(values, yy, feature_name=names),
                    num_boost_round=self.best_iteration_,
                )
            else:
                booster = _truncate(booster, self.best_iteration_)
        else:
            self.best_iteration_ = int(self.num_boost_round)
            booster = lgb.train(
                params,
                lgb.Dataset(values, yy, feature_name=names),
                num_boost_round=self.best_iteration_,
            )
        self.booster_ = booster
        return self

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        X = pd.DataFrame(X)
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks model features {missing}")
        return X[list(self.feature_names_in_)].to_numpy(dtype="float64")

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated log-odds."""
        return np.asarray(self.booster_.predict(self._matrix(X), raw_score=True))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``(n, 2)`` class probabilities (calibrated if a calibrator was fitted)."""
        z = self.decision_function(X)
        p = self.calibrator_.transform(z) if self.calibrator_ is not None else _sigmoid(z)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class labels at a 0.5 threshold (use probabilities for anything real)."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _truncate(booster: lgb.Booster, n_rounds: int) -> lgb.Booster:
    """A booster holding only the first ``n_rounds`` trees (via the native text format)."""
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=n_rounds))


# -------------------------------------------------------------------------------- baselines


class ClimatologyClassifier(ClassifierMixin, BaseEstimator):
    """Predict the training base rate for every row (the no-skill reference)."""

    def fit(self, X: Any, y: Any) -> ClimatologyClassifier:
        """Store the training base rate in ``base_rate_``."""
        yy = _as_array(y)
        if len(yy) == 0 or np.isnan(yy).any():
            raise ValueError("climatology needs at least one row and no missing labels")
        self.base_rate_ = float(yy.mean())
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = np.shape(X)[1] if np.ndim(X) == 2 else 0
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)`` probabilities, all rows equal to the training base rate."""
        p = np.full(len(X), self.base_rate_)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Class labels at a 0.5 threshold."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def history_baseline(
    features: Sequence[str] = HISTORY_FEATURES, random_state: int | None = 0
) -> Pipeline:
    """Conflict-history logistic regression: select, impute (median), scale, fit.

    Every step is fitted inside ``Pipeline.fit``, i.e. on the training rows of the fold only.

    Parameters
    ----------
    features
        The input columns (default: the four conflict-history features).
    random_state
        Passed to the logistic regression.
    """
    return Pipeline(
        [
            (
                "select",
                ColumnTransformer(
                    [("history", "passthrough", list(features))],
                    remainder="drop",
                    verbose_feature_names_out=False,
                ),
            ),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("logit", LogisticRegression(C=1.0, max_iter=1000, random_state=random_state)),
        ]
    )


def build_model(model_cfg: Any, seed: int) -> LightGBMRelapse:
    """The LightGBM estimator described by the ``model`` config group.

    Parameters
    ----------
    model_cfg
        ``cfg.model`` (``params``, ``num_boost_round``, ``early_stopping_rounds``,
        ``calibration``, ``refit``).
    seed
        ``cfg.seed``.
    """
    params = dict(model_cfg.params)
    threads = params.pop("num_threads", None)
    deterministic = bool(params.pop("deterministic", True))
    return LightGBMRelapse(
        params=params,
        num_boost_round=int(model_cfg.num_boost_round),
        early_stopping_rounds=int(model_cfg.early_stopping_rounds),
        calibration=str(model_cfg.calibration),
        refit=bool(model_cfg.get("refit", True)),
        num_threads=None if threads is None else int(threads),
        deterministic=deterministic,
        random_state=int(seed),
    )
