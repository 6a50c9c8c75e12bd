"""``relapse build``: load the sources, build the panel, cache it by content hash.

The panel is rebuilt only when an input file, the resolved configuration that shapes it
(``data``, ``target``, ``features``) or the package's own code changes; otherwise the cached
``panel.parquet`` is returned. The hash is stored beside it in ``panel.meta.json``, with the
SHA-256 of ``panel.parquet`` itself: a cached panel that was edited, truncated or cannot be
read is rebuilt (and the reason reported in :attr:`BuildResult.rebuilt_because`), never used.

What ``relapse score`` needs from the raw sources besides the panel (the validated conflict and
mission tables, the conflict-location changes of every year, the data's last year) is cached
beside it in ``scoring_inputs/`` by the first scoring run of a panel, under the same rule
(:func:`read_scoring_inputs`, :func:`scoring_inputs`), so scoring does not load and validate
sources again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock
from omegaconf import DictConfig, OmegaConf

from relapse import atomic
from relapse import features as feats
from relapse.errors import DataError, output_dir
from relapse.panel import Panel, build_base_panel, label_columns

log = logging.getLogger(__name__)

BASE_SOURCES: tuple[str, ...] = ("ucdp_acd", "gw_states", "country_codes")

PANEL_FILE = "panel.parquet"
META_FILE = "panel.meta.json"


@dataclass
class BuildResult:
    """The built (or cached) panel and where it came from."""

    panel: pd.DataFrame
    path: Path
    input_hash: str
    data_vintage: str
    cached: bool
    notes: dict[str, Any]
    rebuilt_because: str | None = None
    """Why a cached panel with matching inputs was not used (edited, unreadable), if so."""


def source_keys(cfg: DictConfig) -> list[str]:
    """Every source key the build reads with this config."""
    keys = list(BASE_SOURCES)
    keys += [k for k in feats.sources_needed(cfg) if k not in keys]
    if cfg.target.get("location", "government") == "battle" and "ucdp_brd" not in keys:
        keys.append("ucdp_brd")
    return keys


def data_vintage(cfg: DictConfig) -> str:
    """The data release: a hash of every registered source file's contents.

    It does not depend on which families are enabled, so the panel, the training run, the
    report and the scores of one data release carry the same vintage.
    """
    from relapse.sources import configure_files
    from relapse.sources.base import sha256_of

    data_dir = Path(cfg.paths.data_dir)
    sources = configure_files(data_dir, cfg.data.files)
    digest = hashlib.sha256()
    for key in sorted(sources):
        path = data_dir / sources[key].path
        if not path.is_file():
            raise DataError(f"{sources[key].path}: file not found in {data_dir}")
        digest.update(f"{key}:{sha256_of(path)}\n".encode())
    if cfg.data.vintage_year is not None:
        digest.update(f"vintage_year:{cfg.data.vintage_year}".encode())
    return digest.hexdigest()[:16]


def _lock_path(path: Path) -> Path:
    """A lock file for ``path`` outside the output directory (a failed build leaves nothing)."""
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"relapse-panel-{key}.lock"


def data_last_year(cfg: DictConfig) -> int:
    """The last year of the panel this config builds: the conflict data's last year.

    Reads (and verifies) only the UCDP/PRIO ACD, cut to ``data.vintage_year``, so commands
    can compare data releases before doing any work.
    """
    from relapse.data_dir import ensure_data_dir
    from relapse.sources import load

    acd = load(
        "ucdp_acd",
        ensure_data_dir(cfg),
        verify=bool(cfg.data.verify_checksums),
        vintage_year=cfg.data.vintage_year,
    )
    if acd.empty:
        raise DataError("ucdp_acd: no conflict-years to build a panel from")
    return int(acd["year"].max())


def code_hash() -> str:
    """Hash of the package's source files (a code change invalidates the cached panel)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def input_hash(cfg: DictConfig, vintage: str) -> str:
    """Hash of everything that determines the panel."""
    relevant = {
        k: OmegaConf.to_container(cfg[k], resolve=True) for k in ("data", "target", "features")
    }
    text = json.dumps(
        {"config": relevant, "vintage": vintage, "code": code_hash()}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def panel_path(cfg: DictConfig) -> Path:
    """Where ``relapse build`` writes the panel."""
    return Path(cfg.paths.processed_dir) / PANEL_FILE


def build_panel(cfg: DictConfig, *, force: bool = False, progress: Any = None) -> BuildResult:
    """Build the panel (or return the cached one) and write ``panel.parquet``.

    Parameters
    ----------
    cfg
        Composed config (``compose_config()``).
    force
        Rebuild even if the cached panel's hash matches.
    progress
        Optional callable ``progress(step: str)`` called after each stage.

    Returns
    -------
    BuildResult
    """
    from relapse.data_dir import ensure_data_dir

    ensure_data_dir(cfg)
    keys = source_keys(cfg)
    vintage = data_vintage(cfg)
    digest = input_hash(cfg, vintage)
    path = panel_path(cfg)
    output_dir(path.parent)
    # Parallel jobs (relapse train -m) may build panels of different configs into one
    # processed_dir: the lock keeps each panel.parquet paired with its own meta file.
    with FileLock(str(_lock_path(path))):
        reason = None
        if not force:
            cached, reason = read_cached(path, digest)
            if cached is not None:
                meta = json.loads(path.with_name(META_FILE).read_text())
                return BuildResult(
                    cached, path, digest, vintage, cached=True, notes=meta.get("notes", {})
                )
            if reason is not None:
                log.warning("cached panel %s not used: %s; rebuilding it", path, reason)
        made = make_panel(cfg, keys, progress=progress)
        panel = made.frame
        notes = {"outside_state_system": made.outside_state_system}
        write_panel(
            panel,
            path,
            {
                "input_hash": digest,
                "data_vintage": vintage,
                "sources": keys,
                "rows": len(panel),
                "notes": notes,
            },
        )
    return BuildResult(
        panel, path, digest, vintage, cached=False, notes=notes, rebuilt_because=reason
    )


def read_cached(path: Path, digest: str) -> tuple[pd.DataFrame | None, str | None]:
    """The cached panel if its meta matches ``digest`` and the file its recorded SHA-256.

    Returns
    -------
    panel, reason
        ``(panel, None)`` when usable; ``(None, None)`` when there is no cache or its inputs
        differ (a normal rebuild); ``(None, reason)`` when a cache with matching inputs is
        damaged: meta unreadable, no checksum, checksum mismatch, parquet unreadable.
    """
    from relapse.sources.base import sha256_of

    meta_path = path.with_name(META_FILE)
    if not (path.is_file() and meta_path.is_file()):
        return None, None
    try:
        meta = json.loads(meta_path.read_text())
        assert isinstance(meta, dict)
    except (OSError, ValueError, AssertionError):
        return None, f"{META_FILE} is unreadable"
    if meta.get("input_hash") != digest:
        return None, None
    try:
        if meta.get("panel_sha256") != sha256_of(path):
            return None, f"{PANEL_FILE} does not match the SHA-256 in {META_FILE}"
        return pd.read_parquet(path), None
    except Exception as exc:  # any unreadable parquet: pyarrow raises several types
        return None, f"{PANEL_FILE} is unreadable ({type(exc).__name__})"


def load_configured(cfg: DictConfig, keys: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The validated tables of ``keys`` as the config reads them: from ``paths.data_dir``
    (made ready by :func:`relapse.data_dir.ensure_data_dir` first), checksums checked when
    ``data.verify_checksums``, cut at ``data.vintage_year``."""
    from relapse.sources import load_tables

    return dict(
        load_tables(
            keys,
            cfg.paths.data_dir,
            verify=bool(cfg.data.verify_checksums),
            vintage_year=cfg.data.vintage_year,
        )
    )


def make_panel(cfg: DictConfig, keys: list[str] | None = None, progress: Any = None) -> Panel:
    """Load the sources and assemble the panel in memory (no caching, no writing)."""
    tables = load_configured(cfg, keys or source_keys(cfg))
    if progress:
        progress("sources")
    base = build_base_panel(tables, cfg)
    if progress:
        progress("labels")
    panel = order_columns(feats.assemble(base.frame, tables, cfg, progress=progress), cfg)
    return Panel(panel, base.outside_state_system)


def order_columns(panel: pd.DataFrame, cfg: DictConfig) -> pd.DataFrame:
    """Identifiers, population and labels first, then the features, then history columns."""
    first = [
        "gwno",
        "iso3",
        "country",
        "year",
        "in_population",
        "years_since_conflict",
        *label_columns(list(cfg.target.horizons)),
    ]
    features = feats.feature_columns(cfg)
    history = [
        "risk_type",
        "years_at_peace",
        "active",
        "intensity",
        "last_active_year",
        "spell_start",
        "spell_length",
        "spell_max_intensity",
        "n_spells",
        "war_years",
        "conflict_years",
    ]
    out = panel[first + features + history].copy()
    out["gwno"] = out["gwno"].astype("int64")
    out["year"] = out["year"].astype("int64")
    out["in_population"] = out["in_population"].astype(bool)
    return out.reset_index(drop=True)


def write_panel(panel: pd.DataFrame, path: Path, meta: dict[str, Any]) -> None:
    """Write the panel and its metadata (with the panel's SHA-256) atomically."""
    data = panel.to_parquet(index=False)
    meta = {**meta, "panel_sha256": hashlib.sha256(data).hexdigest()}
    atomic.write_bytes(path, data)
    atomic.write_bytes(path.with_name(META_FILE), json.dumps(meta, indent=2).encode())


def _rate(labels: pd.Series) -> float:
    """Share of relapses among known labels (NaN when there are none)."""
    known = labels.dropna()
    return float(known.mean()) if len(known) else float("nan")


def summary(panel: pd.DataFrame, cfg: DictConfig) -> dict[str, Any]:
    """Population size, base rate per horizon and base rate by how the last episode ended."""
    pop = panel.loc[panel["in_population"]]
    rates = {}
    for h in cfg.target.horizons:
        col = f"relapse_h{h}"
        labelled = pop[col].dropna()
        rates[int(h)] = {
            "labelled": len(labelled),
            "relapses": int(labelled.sum()),
            "base_rate": float(labelled.mean()) if len(labelled) else float("nan"),
            "censored": int(pop[col].isna().sum()),
        }
    by_outcome: dict[str, dict[int, float]] = {}
    outcome_cols = [c for c in panel.columns if c.startswith("leg_ended_")]
    for col in outcome_cols:
        rows = pop.loc[pop[col] == 1]
        by_outcome[col.removeprefix("leg_ended_").replace("_", " ")] = {
            int(h): _rate(rows[f"relapse_h{h}"]) for h in cfg.target.horizons
        }
    if outcome_cols:
        unknown = pop.loc[pop[outcome_cols].isna().all(axis=1)]
        by_outcome["not recorded"] = {
            int(h): _rate(unknown[f"relapse_h{h}"]) for h in cfg.target.horizons
        }
    return {
        "rows": len(panel),
        "countries": int(panel["gwno"].nunique()),
        "first_year": int(panel["year"].min()),
        "last_year": int(panel["year"].max()),
        "population": len(pop),
        "base_rates": rates,
        "by_outcome": by_outcome,
    }


# ------------------------------------------------------------------- scoring inputs cache

SCORING_SOURCES: tuple[str, ...] = (
    "ucdp_acd",
    "ucdp_brd",
    "un_mission_list",
    "mullenbach",
    "bara_hultman",
    "un_personnel",
)
"""The validated source tables ``relapse score`` reads besides the panel: the conflicts (facts
of the countries at war, the location note) and :data:`relapse.missions.MISSION_SOURCE_KEYS`."""

SCORING_DIR = "scoring_inputs"
SCORING_META = "scoring_inputs.meta.json"
LOCATION_CHANGES = "location_changes"


@dataclass
class ScoringInputs:
    """What scoring needs from the raw sources, computed once per panel (same input hash)."""

    tables: dict[str, pd.DataFrame]
    """The validated, vintage-cut tables of :data:`SCORING_SOURCES`."""
    location_changes: pd.DataFrame
    """:func:`relapse.panel.location_changes` of every year (with a ``year`` column)."""
    data_last_year: int
    input_hash: str

    def changes_in(self, year: int) -> pd.DataFrame:
        """The location changes of one year, as :func:`relapse.panel.location_changes`."""
        rows = self.location_changes.loc[self.location_changes["year"] == year]
        return rows.drop(columns="year").reset_index(drop=True)


def read_scoring_inputs(cfg: DictConfig) -> ScoringInputs | None:
    """The cached scoring inputs of this config's panel, or None.

    They are used only when their meta file records the panel's current input hash
    (:func:`input_hash`: data files, the config that shapes the panel, the package's code) and
    every file its recorded SHA-256; otherwise (no cache, other inputs, a damaged file) None,
    and :func:`scoring_inputs` computes them again. Reading them needs no source loader.
    """
    from relapse.data_dir import ensure_data_dir
    from relapse.sources.base import sha256_of

    ensure_data_dir(cfg)
    digest = input_hash(cfg, data_vintage(cfg))
    folder = Path(cfg.paths.processed_dir) / SCORING_DIR
    try:
        meta = json.loads((folder / SCORING_META).read_text())
        files = dict(meta["files"])
        if meta["input_hash"] != digest:
            return None
        if sorted(files) != sorted([*SCORING_SOURCES, LOCATION_CHANGES]) or any(
            sha256_of(folder / f"{name}.parquet") != sha for name, sha in files.items()
        ):
            log.warning("cached scoring inputs in %s do not match their checksums", folder)
            return None
        frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in files}
        last_year = int(meta["data_last_year"])
    except Exception:  # no cache, or unreadable (pyarrow raises several types): compute again
        return None
    return ScoringInputs(
        tables={k: frames[k] for k in SCORING_SOURCES},
        location_changes=frames[LOCATION_CHANGES],
        data_last_year=last_year,
        input_hash=digest,
    )


def scoring_inputs(
    cfg: DictConfig, built: BuildResult, cached: ScoringInputs | None = None
) -> ScoringInputs:
    """``cached`` if it belongs to the panel ``built``, else computed and written beside it.

    The tables are loaded with the registered (validating) loaders, cut like the panel's
    sources; the location changes are computed on the panel's spine for every year.
    """
    if cached is not None and cached.input_hash == built.input_hash:
        return cached
    from relapse.panel import location_changes

    tables = load_configured(cfg, SCORING_SOURCES)
    spine = built.panel[["gwno", "year", "iso3", "country"]]
    changes = location_changes(tables["ucdp_acd"], tables["ucdp_brd"], spine, cfg.target)
    inputs = ScoringInputs(tables, changes, int(tables["ucdp_acd"]["year"].max()), built.input_hash)
    _write_scoring_inputs(Path(cfg.paths.processed_dir) / SCORING_DIR, inputs)
    return inputs


def _write_scoring_inputs(folder: Path, inputs: ScoringInputs) -> None:
    """Write every table (atomically), then the meta file that makes them valid."""
    frames = {**inputs.tables, LOCATION_CHANGES: inputs.location_changes}
    files = {}
    for name, frame in frames.items():
        data = frame.to_parquet(index=False)
        atomic.write_bytes(folder / f"{name}.parquet", data)
        files[name] = hashlib.sha256(data).hexdigest()
    meta = {
        "input_hash": inputs.input_hash,
        "data_last_year": inputs.data_last_year,
        "files": files,
    }
    atomic.write_bytes(folder / SCORING_META, json.dumps(meta, indent=2).encode())
