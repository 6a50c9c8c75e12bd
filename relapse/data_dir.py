"""The raw data directory a command reads: the configured snapshot, or the synthetic data set
generated there first.

The one place that knows both :mod:`relapse.sources` (the loaders) and
:mod:`relapse.synthetic` (which writes the loaders' files), so the dependency runs one way:
``data_dir`` → ``synthetic`` → ``sources``. The simulator is imported only for
``data=synthetic``, so the snapshot's commands (scoring among them) do not pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from relapse.sources import configure_files


def ensure_data_dir(cfg: Any) -> Path:
    """The configured raw data directory, generated first when ``data.name`` is synthetic.

    Every command that reads raw data calls this once before reading (``relapse data check``,
    :func:`relapse.build.build_panel`, and through it training, reports and scoring). It
    records ``data.files`` for the directory (:func:`relapse.sources.configure_files`). For the
    snapshot it then returns ``paths.data_dir``; for ``data=synthetic`` it writes the simulated
    data set there unless it is already complete (:func:`relapse.synthetic.ensure_dataset`).

    Raises
    ------
    ConfigError
        If ``data.files`` is invalid.
    DataError
        If a synthetic data set would overwrite a directory it did not write.
    """
    configure_files(cfg.paths.data_dir, cfg.data.files)
    if str(cfg.data.name) == "synthetic":
        from relapse.synthetic import ensure_dataset

        return ensure_dataset(cfg)
    return Path(cfg.paths.data_dir)
