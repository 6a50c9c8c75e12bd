"""The MLflow *model from code* of a relapse forecast (``mlflow.pyfunc``).

MLflow logs this file as the model's code (no pickled Python objects) with the model
directory of :func:`relapse.forecast.save_model` as its artifact. Its ``predict(df)`` returns
the calibrated, horizon-consistent probabilities the batch job writes, one column
``relapse_probability_h{h}`` per horizon, for rows with the model's feature columns.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class RelapsePyfunc(PythonModel):
    """Loads the saved hazard model from the ``model`` artifact and predicts every horizon."""

    def load_context(self, context: Any) -> None:
        """Read the model directory (validated, no pickle)."""
        from relapse.forecast import load_model

        self.model = load_model(context.artifacts["model"])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """``relapse_probability_h{h}`` for every horizon of the model."""
        names = [str(n) for n in self.model.feature_names_in_]
        missing = [n for n in names if n not in model_input.columns]
        if missing:
            raise ValueError(f"input lacks model features {missing}")
        frame = model_input[names].astype("float64")
        p = self.model.predict_horizons(frame)
        return pd.DataFrame(
            {f"relapse_probability_h{h}": p[:, j] for j, h in enumerate(self.model.horizons_)},
            index=model_input.index,
        )


mlflow.models.set_model(RelapsePyfunc())
