"""relapse: forecasts of post-conflict relapse with honest backtests and family-level explanations."""

__version__ = "0.1.0"
