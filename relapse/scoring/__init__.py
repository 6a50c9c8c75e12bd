"""``relapse score``: the unattended batch job that scores countries with the champion models.

For year ``score.as_of`` (default: the last year of the data) and each horizon of
``target.horizons`` it loads the registered model (``score.model_version``, default the
``champion`` alias), builds the panel (cached by content hash), selects the countries of
``score.scope`` and writes one row per country × horizon to
``${paths.scores_dir}/as_of=<year>/`` (``scores.parquet``, ``scores.csv``, ``brief.md``,
``brief.html``).

Row status
----------
``scored``
    Not at war in ``as_of``: probability, risk band and drivers given; ``risk_type`` says
    relapse (post-conflict), renewed (conflict long ago) or onset, with ``years_at_peace``.
``active_conflict``
    The country had an active internal conflict-year in ``as_of`` (e.g. Mali, DR Congo,
    South Sudan in 2018): it is listed, never dropped, but has no relapse probability.
``missing_data``
    The row cannot be built: the host is not a Gleditsch–Ward state in the panel's spine in
    ``as_of`` (a state that did not exist that year). Missing
    *feature values* are not missing data: LightGBM handles NaN, and such rows are scored.

Contract for consumers
----------------------
* Columns and order: :data:`relapse.scoring.table.COLUMNS`; checked with
  :func:`relapse.scoring.table.score_schema` before writing.
  Rows sorted by country, ISO3 and horizon. ``relapse_probability`` is rounded to 4
  decimals; risk bands are multiples of each horizon's base rate
  (:mod:`relapse.bands`; a value equal to a cut falls in the higher band).
  ``top_drivers_up`` / ``top_drivers_down`` are factor
  families with their summed SHAP contributions (log-odds, LightGBM ``pred_contrib``) to
  the raw model score, largest first, at most three each, |value| ≥ 0.005.
* Empty (null in parquet, blank in CSV) when not scored: probability. Empty string: risk band,
  drivers, missions when there are none. ``gwno`` is never null for mission hosts
  (``score.mission_hosts`` attributes every mission to GW states).
* **CSV injection**: in ``scores.csv`` every text cell starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return gets a leading apostrophe (``'``), so spreadsheet programs
  show it as text instead of running it as a formula. ``scores.parquet`` holds raw values.
* **Atomic and reproducible**: the four files of a run are written (and fsynced) into a new
  hidden directory ``.as_of=<year>.<content hash>``; ``as_of=<year>`` is then a symlink
  switched to it with one ``os.replace``. A run killed at any point leaves the previous
  outputs complete. The files carry no timestamps, so the same inputs and models give
  byte-identical files (and the same directory name).
* **Lock**: ``${paths.scores_dir}/.lock`` (``filelock``). A second run waits up to
  ``score.lock_timeout_s`` seconds, then fails with
  :class:`relapse.scoring.job.ScoreLockError` (exit 2).
* **Data year check**: a model whose ``data_last_year`` tag is later than the last year of
  the data is refused with :class:`~relapse.errors.DataError` (exit 3) before anything is
  written: an older data release must not be scored by a model trained on a newer one.
* **Full disk**: an :class:`OSError` while writing becomes
  :class:`~relapse.errors.OutputError` (exit 5) naming the file; see
  :func:`relapse.scoring.outputs.write_outputs`.
* **Feature check**: a model whose feature list differs from the built features (as sets)
  is refused with :class:`~relapse.errors.ModelError` (exit 4) naming the differences; a
  difference in order only is resolved by passing columns in the model's order.
* **Tracking**: after the files are in place the run is logged to MLflow (experiment
  ``relapse-scoring``: input hash, data vintage, model versions, row counts, the CSV). If the
  tracking server cannot be reached the command exits 4 *but keeps the written scores*:
  they are a pure function of data and registered models, and the non-zero code makes the
  scheduler alert that the audit record is missing.

Modules
-------
:mod:`~relapse.scoring.job`
    ``score(cfg)`` and ``compute_scores(cfg)``: models, panel, refusals, the MLflow record.
:mod:`~relapse.scoring.scope`
    Who is scored: the scope, mission hosts, conflict facts, the brief's caveats.
:mod:`~relapse.scoring.table`
    The score table, its family drivers and its pandera schema.
:mod:`~relapse.scoring.brief`
    The brief from the Jinja templates; Markdown and CSV-injection escaping.
:mod:`~relapse.scoring.outputs`
    The bytes of the four files and the atomic ``as_of=<year>`` switch.
"""
