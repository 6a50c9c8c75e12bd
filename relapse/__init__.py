"""relapse: post-conflict relapse forecasts, honest backtests, family-level explanations."""

__version__ = "0.1.0"
