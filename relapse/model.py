"""The models: the relapse hazard model (history logit + LightGBM per interval) and baselines.

:class:`HazardModel` is the relapse model: one :class:`BoostedLogit` per hazard interval of the
horizons, composed so that longer horizons never get lower probabilities, with an optional
logistic :class:`Recalibration` per interval. :func:`history_baseline` (the four-variable
conflict-history logit) and :func:`climatology` (scikit-learn's prior-rate dummy) are the
baselines.

Everything here that learns follows the scikit-learn estimator contract: ``__init__`` only
stores its arguments, learned attributes end in ``_``, ``random_state`` is honoured. Nothing
is fitted on rows outside the training window it is given; early stopping sees the
validation slice only through the ``validation`` mask passed to ``fit``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
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


def _as_array(y: Any) -> np.ndarray:
    return np.asarray(pd.Series(y).astype("float64").to_numpy(), dtype="float64")


def _logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities (the inverse of :func:`scipy.special.expit`)."""
    return np.asarray(np.log(p) - np.log1p(-p))


# -------------------------------------------------------------------------------- baselines


def climatology() -> DummyClassifier:
    """The no-skill reference: the training base rate for every row (``strategy="prior"``)."""
    return DummyClassifier(strategy="prior")


def climatology_rate(y: Any) -> float:
    """The climatology forecast of labels ``y``: their relapse share (0 without relapses).

    Raises
    ------
    ValueError
        Without rows or with a missing label.
    """
    yy = _as_array(y)
    if len(yy) == 0 or np.isnan(yy).any():
        raise ValueError("climatology needs at least one row and no missing labels")
    fitted = climatology().fit(np.zeros((len(yy), 1)), yy)
    prior = dict(zip(fitted.classes_.tolist(), fitted.class_prior_.tolist(), strict=True))
    return float(prior.get(1.0, 0.0))


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


# ----------------------------------------------------------------- the relapse hazard model


@dataclass(frozen=True)
class LinearLogit:
    """A fitted logistic regression on standardised, median-imputed inputs, as plain numbers.

    The log-odds are ``intercept + sum_j coef_j * (fill_j(x_j) - mean_j) / scale_j``: each
    term is the feature's exact contribution (its mean over the training rows is zero, so the
    intercept is the base value), which is what makes the baseline part explainable like the
    trees. Serialises to JSON; nothing is pickled.
    """

    features: tuple[str, ...]
    medians: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    @classmethod
    def fit(
        cls, X: pd.DataFrame, y: Any, features: Sequence[str], random_state: int = 0
    ) -> LinearLogit:
        """Fit :func:`history_baseline` on ``X[features]`` and keep its parameters."""
        pipe = history_baseline(features, random_state=random_state).fit(X[list(features)], y)
        imputer, scaler, logit = (pipe.named_steps[k] for k in ("impute", "scale", "logit"))
        return cls(
            features=tuple(features),
            medians=tuple(float(v) for v in imputer.statistics_),
            means=tuple(float(v) for v in scaler.mean_),
            scales=tuple(float(v) for v in scaler.scale_),
            coef=tuple(float(v) for v in logit.coef_[0]),
            intercept=float(logit.intercept_[0]),
        )

    def terms(self, X: pd.DataFrame) -> np.ndarray:
        """Per-feature contributions to the log-odds, shape ``(n, len(features))``."""
        values = X[list(self.features)].to_numpy(dtype="float64", na_value=np.nan)
        values = np.where(np.isnan(values), np.asarray(self.medians), values)
        return (values - np.asarray(self.means)) / np.asarray(self.scales) * np.asarray(self.coef)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds."""
        return self.intercept + self.terms(X).sum(axis=1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearLogit:
        """Rebuild from :meth:`to_dict`; :class:`ValueError` on non-finite or ragged numbers."""
        fields = ("medians", "means", "scales", "coef")
        features = tuple(str(f) for f in data["features"])
        numbers = {k: tuple(float(v) for v in data[k]) for k in fields}
        intercept = float(data["intercept"])
        if any(len(v) != len(features) for v in numbers.values()):
            raise ValueError("logit parameters do not match its feature list")
        if not all(math.isfinite(v) for vs in numbers.values() for v in vs) or not math.isfinite(
            intercept
        ):
            raise ValueError("logit parameters must be finite numbers")
        if any(v <= 0 for v in numbers["scales"]):
            raise ValueError("logit scales must be positive")
        return cls(features=features, intercept=intercept, **numbers)


class BoostedLogit(ClassifierMixin, BaseEstimator):
    """Gradient boosting that starts from the conflict-history logit.

    The logit (:class:`LinearLogit` on ``history_features``) gives every row its starting
    log-odds (LightGBM's ``init_score``); shallow trees with heavy shrinkage then add only what
    the other features explain beyond it, stopping early on the in-window validation years.
    Early stopping uses a logit fitted on the fitting rows only; the final logit and trees
    are refitted on every row with the chosen number of rounds.

    Parameters
    ----------
    history_features
        Inputs of the logit.
    params
        LightGBM parameters (defaults: stumps, ``learning_rate`` 0.02, ``lambda_l2`` 10).
    num_boost_round, early_stopping_rounds
        Upper bound on rounds and the early-stopping patience.
    random_state
        Seed of LightGBM's random choices (none are made with the default parameters).
    """

    def __init__(
        self,
        history_features: Sequence[str] = HISTORY_FEATURES,
        params: Mapping[str, Any] | None = None,
        num_boost_round: int = 500,
        early_stopping_rounds: int = 50,
        random_state: int | None = 0,
    ) -> None:
        self.history_features = history_features
        self.params = params
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state

    def _lgb_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": "binary",
            "learning_rate": 0.02,
            "num_leaves": 2,
            "min_data_in_leaf": 40,
            "lambda_l2": 10.0,
            "max_bin": 63,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }
        params.update(dict(self.params or {}))
        params["objective"] = "binary"
        params["metric"] = "binary_logloss"
        params["boost_from_average"] = False
        if self.random_state is not None:
            params["seed"] = int(self.random_state)
        return params

    def fit(self, X: pd.DataFrame, y: Any, validation: Any = None) -> BoostedLogit:
        """Fit the logit and the trees; rows where ``validation`` is true stop the boosting."""
        X = pd.DataFrame(X)
        yy = _as_array(y)
        if np.isnan(yy).any():
            raise ValueError("labels contain missing values: censored rows must be dropped")
        if len(np.unique(yy)) < 2:
            raise ValueError("a relapse model needs both outcomes among its training rows")
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        names = list(self.feature_names_in_)
        history = [f for f in self.history_features if f in names]
        seed = 0 if self.random_state is None else int(self.random_state)
        params = self._lgb_params()
        values = X.to_numpy(dtype="float64", na_value=np.nan)
        val = np.zeros(len(X), bool) if validation is None else np.asarray(validation, bool)
        rounds = int(self.num_boost_round)
        fit_rows = ~val
        if val.any() and fit_rows.any() and len(np.unique(yy[fit_rows])) == 2:
            start = LinearLogit.fit(X.loc[fit_rows], yy[fit_rows], history, seed)
            init = start.decision_function(X)
            fit_set = lgb.Dataset(
                values[fit_rows],
                yy[fit_rows],
                init_score=init[fit_rows],
                feature_name=names,
                free_raw_data=False,
            )
            val_set = lgb.Dataset(values[val], yy[val], init_score=init[val], reference=fit_set)
            probe = lgb.train(
                params,
                fit_set,
                num_boost_round=rounds,
                valid_sets=[val_set],
                valid_names=["validation"],
                callbacks=[lgb.early_stopping(int(self.early_stopping_rounds), verbose=False)],
            )
            rounds = max(int(probe.best_iteration or probe.current_iteration()), 1)
        self.best_iteration_ = rounds
        self.logit_ = LinearLogit.fit(X, yy, history, seed)
        init = self.logit_.decision_function(X)
        self.booster_ = lgb.train(
            params,
            lgb.Dataset(values, yy, init_score=init, feature_name=names),
            num_boost_round=rounds,
        )
        return self

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks model features {missing}")
        return X[list(self.feature_names_in_)].to_numpy(dtype="float64", na_value=np.nan)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds: the logit's plus the trees'."""
        trees = np.asarray(self.booster_.predict(self._matrix(X), raw_score=True))
        return self.logit_.decision_function(X) + trees

    def contributions(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Exact per-feature contributions to the log-odds and the base value.

        The logit's terms are added to their features' TreeSHAP values (LightGBM's
        ``pred_contrib``); the base is the logit's intercept plus the trees' expected value.
        ``values.sum(axis=1) + base`` equals :meth:`decision_function`.
        """
        out = np.asarray(self.booster_.predict(self._matrix(X), pred_contrib=True))
        values, base = out[:, :-1].copy(), out[:, -1] + self.logit_.intercept
        index = {n: i for i, n in enumerate(self.feature_names_in_)}
        terms = self.logit_.terms(X)
        for j, name in enumerate(self.logit_.features):
            values[:, index[name]] += terms[:, j]
        return values, base

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``(n, 2)`` class probabilities."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])


def intervals(horizons: Sequence[int]) -> list[tuple[int, int]]:
    """The hazard intervals of the horizons: ``[1, 2, 5]`` → ``[(0, 1), (1, 2), (2, 5)]``."""
    hs = sorted({int(h) for h in horizons})
    if not hs or hs[0] < 1:
        raise ValueError(f"horizons must be positive years, got {list(horizons)}")
    return list(zip([0, *hs[:-1]], hs, strict=True))


def interval_rows(
    labels: pd.DataFrame, years: Any, start: int, end: int, origin: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows at risk in interval ``(start, end]`` whose outcome is known at ``origin``.

    A row of year t is at risk when it has not relapsed within ``start`` years (always true
    for ``start`` 0) and its ``end``-year label is known by the origin (``t + end <= origin``
    and not censored). Returns the boolean mask and the 0/1 target (relapse within ``end``).
    """
    yr = np.asarray(years, dtype="int64")
    y_end = labels[f"relapse_h{end}"].to_numpy(dtype="float64", na_value=np.nan)
    mask = ~np.isnan(y_end) & (yr + end <= origin)
    if start > 0:
        y_start = labels[f"relapse_h{start}"].to_numpy(dtype="float64", na_value=np.nan)
        mask &= y_start == 0
    return mask, np.nan_to_num(y_end).astype("int64")


@dataclass(frozen=True)
class Recalibration:
    """Logistic recalibration of one interval's log-odds: ``a * z + b`` (a > 0)."""

    a: float = 1.0
    b: float = 0.0
    n_fit: int = 0

    @classmethod
    def fit(
        cls,
        z: np.ndarray,
        y: np.ndarray,
        min_rows: int = 50,
        min_events: int = 5,
        slope: bool = True,
    ) -> Recalibration:
        """Fit on out-of-sample log-odds and outcomes; identity when there is too little.

        ``slope`` False fits the intercept only (``a`` stays 1: a shift of the log-odds that
        keeps their spread, "calibration in the large").
        """
        z = np.asarray(z, dtype="float64")
        y = np.asarray(y, dtype="float64")
        if len(z) < min_rows or y.sum() < min_events or (len(y) - y.sum()) < min_events:
            return cls(n_fit=len(z))
        if not slope:
            return cls(b=_intercept_shift(z, y), n_fit=len(z))
        lr = LogisticRegression(C=1e4, max_iter=1000).fit(z.reshape(-1, 1), y)
        a = float(lr.coef_[0, 0])
        if not a > 0:  # a slope that reverses the ranking is no calibration: keep the ranking
            return cls(n_fit=len(z))
        return cls(a=a, b=float(lr.intercept_[0]), n_fit=len(z))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {"method": "logistic", "a": self.a, "b": self.b, "n_fit": self.n_fit}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recalibration:
        """Rebuild; :class:`ValueError` unless ``a`` is positive and both are finite."""
        a, b = float(data["a"]), float(data["b"])
        if not (math.isfinite(a) and math.isfinite(b) and a > 0):
            raise ValueError(f"recalibration needs finite a > 0 and finite b, got a={a}, b={b}")
        return cls(a=a, b=b, n_fit=int(data.get("n_fit", 0)))


def _intercept_shift(z: np.ndarray, y: np.ndarray, steps: int = 50) -> float:
    """The shift ``b`` maximising the likelihood of ``y`` under ``expit(z + b)`` (Newton)."""
    b = 0.0
    for _ in range(steps):
        p = expit(z + b)
        grad, hess = float((y - p).sum()), float((p * (1 - p)).sum())
        if hess <= 0:
            break
        step = grad / hess
        b += step
        if abs(step) < 1e-10:
            break
    return b


_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(32)
_NODES, _WEIGHTS = (_NODES + 1.0) / 2.0, _WEIGHTS / 2.0
"""Gauss–Legendre rule on [0, 1] for the path integral in :meth:`HazardModel.contributions`."""


class HazardModel(ClassifierMixin, BaseEstimator):
    """Relapse within 1, 2, 5 … years as a discrete-time hazard: consistent by construction.

    One :class:`BoostedLogit` per interval ``(h_{k-1}, h_k]`` of the horizons estimates the
    probability ``q_k`` of relapse in that interval for a country that has not relapsed
    before it; the forecast for horizon ``h_k`` is ``1 - prod_{j <= k} (1 - q_j)``. Every
    ``q_j`` lies in (0, 1), so P(within 1 y) ≤ P(within 2 y) ≤ P(within 5 y) for every row.
    Each interval's log-odds may be recalibrated (:class:`Recalibration`, fitted by the caller
    on earlier origins' out-of-sample forecasts, :meth:`set_recalibration`).

    Parameters
    ----------
    horizons
        Forecast horizons (years).
    history_features, params, num_boost_round, early_stopping_rounds, random_state
        Passed to each interval's :class:`BoostedLogit`.
    validation_years
        The last years of each interval's training window used for early stopping.
    """

    def __init__(
        self,
        horizons: Sequence[int] = (1, 2, 5),
        history_features: Sequence[str] = HISTORY_FEATURES,
        params: Mapping[str, Any] | None = None,
        num_boost_round: int = 500,
        early_stopping_rounds: int = 50,
        validation_years: int = 3,
        random_state: int | None = 0,
    ) -> None:
        self.horizons = horizons
        self.history_features = history_features
        self.params = params
        self.num_boost_round = num_boost_round
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_years = validation_years
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, labels: pd.DataFrame, years: Any, origin: int) -> HazardModel:
        """Fit every interval on the rows whose outcome is known at ``origin``.

        Parameters
        ----------
        X
            Features of candidate training rows (years before ``origin``).
        labels
            ``relapse_h{h}`` for every horizon, aligned with ``X`` (NaN: censored).
        years
            The rows' years.
        origin
            The forecast origin T: an interval ending ``end`` years after t uses rows with
            ``t + end <= T`` only.
        """
        X = pd.DataFrame(X).reset_index(drop=True)
        labels = pd.DataFrame(labels).reset_index(drop=True)
        yr = np.asarray(years, dtype="int64")
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.classes_ = np.array([0, 1])
        self.horizons_ = tuple(sorted({int(h) for h in self.horizons}))
        self.components_: dict[int, BoostedLogit] = {}
        self.n_train_: dict[int, int] = {}
        for start, end in intervals(self.horizons_):
            mask, y = interval_rows(labels, yr, start, end, int(origin))
            window = np.unique(yr[mask])
            val_years: Any = window[-int(self.validation_years) :] if self.validation_years else []
            if len(window) <= len(val_years):
                val_years = []
            validation = np.isin(yr[mask], val_years)
            self.components_[end] = BoostedLogit(
                history_features=self.history_features,
                params=self.params,
                num_boost_round=self.num_boost_round,
                early_stopping_rounds=self.early_stopping_rounds,
                random_state=self.random_state,
            ).fit(X.loc[mask], y[mask], validation=validation)
            self.n_train_[end] = int(mask.sum())
        self.recalibration_ = {end: Recalibration() for end in self.components_}
        return self

    def set_recalibration(self, recalibration: Mapping[int, Recalibration]) -> HazardModel:
        """Use these interval recalibrations (missing intervals keep the identity)."""
        self.recalibration_ = {
            end: recalibration.get(end, Recalibration()) for end in self.components_
        }
        return self

    def interval_scores(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated log-odds of every interval, shape ``(n, n_horizons)``."""
        return np.column_stack([c.decision_function(X) for c in self.components_.values()])

    def predict_horizons(self, X: pd.DataFrame) -> np.ndarray:
        """Cumulative relapse probabilities, shape ``(n, n_horizons)``, non-decreasing."""
        recal = [self.recalibration_[e] for e in self.components_]
        return cumulative_probabilities(self.interval_scores(X), recal)

    def predict_proba(self, X: pd.DataFrame, horizon: int | None = None) -> np.ndarray:
        """Relapse probability within ``horizon`` (default the shortest), shape ``(n,)``."""
        k = self._index(horizon)
        return self.predict_horizons(X)[:, k]

    def _index(self, horizon: int | None) -> int:
        h = self.horizons_[0] if horizon is None else int(horizon)
        if h not in self.horizons_:
            raise ValueError(f"the model forecasts horizons {list(self.horizons_)}, not {h}")
        return self.horizons_.index(h)

    def contributions(self, X: pd.DataFrame, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions to the log-odds of P(relapse within ``horizon``).

        For the first horizon these are the interval model's exact contributions (logit terms
        plus TreeSHAP), scaled by its recalibration slope. For a later horizon the log-odds
        ``L`` is a smooth function of the interval log-odds ``z_1 … z_k``; each of those is a
        base plus exact per-feature parts, and a feature's contribution to ``L`` is its parts
        weighted by the path integral of ``dL/dz_j`` from the bases to the row's values
        (Aumann–Shapley, computed with a 32-point Gauss–Legendre rule). The contributions plus
        the base value equal ``L`` (checked in the tests to 1e-6).
        """
        k = self._index(horizon) + 1
        parts, bases = [], []
        for end in list(self.components_)[:k]:
            values, base = self.components_[end].contributions(X)
            a, b = self.recalibration_[end].a, self.recalibration_[end].b
            parts.append(values * a)
            bases.append(base * a + b)
        e = np.column_stack(bases)  # (n, k) calibrated bases
        d = np.column_stack([p.sum(axis=1) for p in parts])  # (n, k) what the features add
        base_value = _cumulative_logodds(e)
        if k == 1:
            return parts[0], base_value
        weights = np.zeros_like(d)
        for node, w in zip(_NODES, _WEIGHTS, strict=True):
            z = e + node * d
            q = expit(z)
            p = 1.0 - np.prod(1.0 - q, axis=1, keepdims=True)
            weights += w * q / p
        values = sum(parts[j] * weights[:, [j]] for j in range(k))
        return np.asarray(values), base_value

    def decision_function(self, X: pd.DataFrame, horizon: int | None = None) -> np.ndarray:
        """Log-odds of :meth:`predict_proba`."""
        p = self.predict_proba(X, horizon)
        return _logit(p)

    def baseline_proba(self, X: pd.DataFrame, horizon: int | None = None) -> np.ndarray:
        """The history logits alone (no trees, no recalibration), composed like the model."""
        k = self._index(horizon) + 1
        z = np.column_stack(
            [c.logit_.decision_function(X) for c in list(self.components_.values())[:k]]
        )
        return cumulative_probabilities(z, [Recalibration()] * k)[:, -1]


def cumulative_probabilities(z: np.ndarray, recalibration: Sequence[Recalibration]) -> np.ndarray:
    """P(relapse within each horizon) from interval log-odds ``z`` (one column per interval).

    Each column is recalibrated (``a * z + b``), turned into the interval's conditional
    probability, and the cumulative probabilities are ``1 - prod(1 - q)``: non-decreasing
    across the columns whatever the inputs.
    """
    a = np.array([r.a for r in recalibration])
    b = np.array([r.b for r in recalibration])
    q = expit(np.asarray(z, dtype="float64") * a + b)
    return 1.0 - np.cumprod(1.0 - q, axis=1)


def _cumulative_logodds(z: np.ndarray) -> np.ndarray:
    """Log-odds of ``1 - prod(1 - expit(z_j))`` over the columns of ``z``."""
    p = cumulative_probabilities(z, [Recalibration()] * z.shape[1])[:, -1]
    return _logit(p)


NOT_AT_WAR_HISTORY: tuple[str, ...] = (*HISTORY_FEATURES, "leg_never_in_conflict")
"""Logit inputs of the not-at-war model: the history features and the never-in-conflict flag."""


def in_window(X: pd.DataFrame, window_years: int) -> np.ndarray:
    """Rows inside the post-conflict window: 1 to ``window_years`` years at peace."""
    years = X["leg_years_at_peace"].to_numpy(dtype="float64", na_value=np.nan)
    return (years >= 1) & (years <= window_years)


@dataclass
class RoutedModel:
    """The relapse model for post-conflict rows and the not-at-war model for every other row.

    Rows inside the post-conflict window (:func:`in_window`) are forecast by ``relapse`` (a
    :class:`HazardModel` trained on post-conflict country-years); rows beyond it or never in
    conflict by ``not_at_war`` (trained on every country-year not at war), so each model
    scores the kind of country-years it was trained on. Without ``not_at_war`` every row goes
    to ``relapse``. Both share one feature list and horizons.
    """

    relapse: HazardModel
    not_at_war: HazardModel | None = None
    window_years: int = 10

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The shared feature list."""
        return self.relapse.feature_names_in_

    @property
    def horizons_(self) -> tuple[int, ...]:
        """The shared horizons."""
        return tuple(self.relapse.horizons_)

    @property
    def recalibration_(self) -> dict[int, Recalibration]:
        """The relapse model's interval recalibrations."""
        return self.relapse.recalibration_

    def routes(self, X: pd.DataFrame) -> np.ndarray:
        """True for rows the relapse model forecasts."""
        if self.not_at_war is None:
            return np.ones(len(X), dtype=bool)
        return in_window(X, self.window_years)

    def _apply(self, X: pd.DataFrame, method: str, *args: Any) -> Any:
        inside = self.routes(X)
        first = getattr(self.relapse, method)(X.loc[inside], *args) if inside.any() else None
        rest = (
            getattr(self.not_at_war, method)(X.loc[~inside], *args)
            if (~inside).any() and self.not_at_war is not None
            else None
        )
        return inside, first, rest

    def _merge(self, inside: np.ndarray, first: Any, rest: Any, width: int | None) -> np.ndarray:
        shape = (len(inside),) if width is None else (len(inside), width)
        out = np.empty(shape, dtype="float64")
        if first is not None:
            out[inside] = first
        if rest is not None:
            out[~inside] = rest
        return out

    def predict_horizons(self, X: pd.DataFrame) -> np.ndarray:
        """Cumulative probabilities of every horizon, non-decreasing in each row."""
        inside, a, b = self._apply(X, "predict_horizons")
        return self._merge(inside, a, b, len(self.horizons_))

    def predict_proba(self, X: pd.DataFrame, horizon: int | None = None) -> np.ndarray:
        """Probability of relapse (or renewed conflict, or onset) within ``horizon``."""
        inside, a, b = self._apply(X, "predict_proba", horizon)
        return self._merge(inside, a, b, None)

    def decision_function(self, X: pd.DataFrame, horizon: int | None = None) -> np.ndarray:
        """Log-odds of :meth:`predict_proba`."""
        p = self.predict_proba(X, horizon)
        return _logit(p)

    def baseline_proba(self, X: pd.DataFrame, horizon: int | None = None) -> np.ndarray:
        """The routed models' history-logit parts alone."""
        inside, a, b = self._apply(X, "baseline_proba", horizon)
        return self._merge(inside, a, b, None)

    def contributions(self, X: pd.DataFrame, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact contributions to the log-odds and the base value of each row's model."""
        inside = self.routes(X)
        values = np.empty((len(X), len(self.feature_names_in_)), dtype="float64")
        base = np.empty(len(X), dtype="float64")
        for mask, model in ((inside, self.relapse), (~inside, self.not_at_war)):
            if mask.any() and model is not None:
                values[mask], base[mask] = model.contributions(X.loc[mask], horizon)
        return values, base
