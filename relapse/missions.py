"""Which countries host a peacekeeping mission at the end of a year (the batch job's scope).

All tables are read with the loaders registered in :mod:`relapse.sources.peacekeeping` (see
:data:`MISSION_SOURCE_KEYS`); their documented columns, GW host codes and code fixes apply.

UN missions come from the UN mission list (``un_mission_list``: one row per mission and host
``gwno``, joined there to ``crosswalks/un_pko_mission_to_iso3.csv``; start and end dates; a
blank end date means *still active at the end of 2018*, the snapshot's vintage). A UN
mission is active at the end of year ``as_of`` when its start date is on or before
31 December ``as_of`` and its end date is blank or later than that day.

Non-UN missions have no source that reaches 2017–2018 in this snapshot. The most recent
evidence is the end of 2016:

* Mullenbach's third-party missions (``mullenbach``; 1947–2016): missions coded
  ``ONGOING = 1`` with a blank end year, led by a regional organisation or a state
  (``TPTYPE`` 2 or 3; UN-led and hybrid missions are taken from the UN list instead);
* Bara & Hultman's episode-months (``bara_hultman``; 1993–2016): missions of ``org`` 2
  (regional) or 3 (international, non-UN) observed in the source's last month.

For ``as_of`` after 2016 those missions are *carried forward* as the last known non-UN
presence (``non_un_evidence_year`` says from when), e.g. KFOR and EULEX in Kosovo, EUFOR
Althea in Bosnia, AMISOM in Somalia, ECOMIB in Guinea-Bissau, OSCE missions in Moldova and
Ukraine, IMT in Mindanao. Missions started in 2017–2018 (e.g. the G5 Sahel joint force) and
non-UN missions ended in 2017–2018 are not in the snapshot, and this module does not guess
them.

Explicit conventions (never silent):

* **Host attribution** follows UCDP, which codes the conflicts: one override table in
  config, ``score.mission_hosts`` (``conf/score/default.yaml``), replaces the sources' hosts
  of a mission (MINURSO → Morocco 600, as UCDP locates the Western Sahara conflict; UNDOF →
  Israel and Syria; UNMIK, KFOR and EULEX → Serbia before 2008, Kosovo from 2008, never
  both) and flags the missions on interstate lines (UNTSO, UNDOF, UNMOGIP, UNFICYP), whose
  scenario is not an internal conflict. :func:`apply_host_overrides` applies it; a mission
  matches an entry by its acronym or a name ending in it (``NATO KFOR`` matches ``KFOR``).
* **Missions the sources stop covering**: every mission row says when it was last recorded
  (``last_recorded_year``). A non-UN mission whose last record is before ``as_of`` is listed
  with status ``not recorded since <year>`` (EUPOL Afghanistan, which ended in 2016, reads
  "not recorded since 2016" in 2018), never silently as active.
* **Strength** is the latest deployed personnel on record on or before ``as_of`` (UN:
  ``un_personnel`` to 2015; non-UN: Bara & Hultman troops + police + observers to 2016), with
  the year it is from; empty when no figure exists.
* Missions whose dates are blank in the UN list (UNOHCI: marked active but with no start
  date) cannot be placed in time; they are listed in :attr:`MissionsResult.undated`. Missions
  with no single host in the crosswalk (UNFOR, also undated; UNPF; the umbrella rows UNEF,
  UNAVEM, UNOSOM) are excluded by the ``un_mission_list`` loader and recorded in its
  ``notes['missions_without_single_host']``.
* Mullenbach codes UNAMI (Iraq) with the Philippines' COW code 840; UN-led rows are not used,
  so the error does not propagate. Mullenbach's ``mission`` (name and place) is shortened to
  its acronym here (:func:`_mullenbach_acronym`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from relapse.sources import load_tables

MISSION_SOURCE_KEYS: tuple[str, ...] = (
    "un_mission_list",
    "mullenbach",
    "bara_hultman",
    "un_personnel",
)
"""Registered sources (:mod:`relapse.sources.peacekeeping`) read here (the mission list's
loader joins and verifies ``crosswalks/un_pko_mission_to_iso3.csv`` itself)."""


MISSION_COLUMNS: tuple[str, ...] = (
    "mission",
    "gwno",
    "un",
    "last_recorded_year",
    "status",
    "strength",
    "strength_year",
    "interstate",
)


@dataclass
class MissionsResult:
    """Mission hosts at the end of one year, and what could not be placed."""

    hosts: pd.DataFrame
    """One row per GW host: ``gwno``, ``missions`` ('; '-joined acronyms, UN first),
    ``un``, ``non_un`` (bool), ``non_un_evidence_year`` (Int64: the year of the non-UN
    record used; < ``as_of`` when not recorded since), ``interstate`` (bool: every mission
    of the host is an interstate-line mission)."""
    missions: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per mission and host: :data:`MISSION_COLUMNS` (``status`` is ``active`` or
    ``not recorded since <year>``; ``strength`` deployed personnel from ``strength_year``)."""
    undated: list[str] = field(default_factory=list)
    """UN missions with a blank start date (cannot be placed in time)."""
    non_un_last_year: int | None = None
    """The last year covered by any non-UN source."""


def load_mission_tables(data_dir: Path | str, *, verify: bool = True) -> dict[str, pd.DataFrame]:
    """Load the mission sources (checked against ``MANIFEST.csv`` when ``verify``)."""
    return load_tables(MISSION_SOURCE_KEYS, data_dir, verify=verify)


def active_missions(
    tables: Mapping[str, pd.DataFrame],
    as_of: int,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> MissionsResult:
    """Countries hosting a UN or non-UN mission at the end of ``as_of``.

    Parameters
    ----------
    tables
        Output of :func:`load_mission_tables`.
    as_of
        The year; UN missions must be active on 31 December of it.
    overrides
        ``score.mission_hosts``: acronym → ``hosts``, ``from_year``, ``earlier_hosts``,
        ``interstate``, ``reason`` (see :func:`apply_host_overrides`).

    Returns
    -------
    MissionsResult
    """
    end_of_year = pd.Timestamp(year=as_of, month=12, day=31)
    un = tables["un_mission_list"]
    open_end = un["end_date"].isna() | (un["end_date"] > end_of_year)
    undated = sorted(un.loc[un["start_date"].isna() & open_end, "mission"].unique())
    live = un.loc[
        un["start_date"].notna() & (un["start_date"] <= end_of_year) & open_end, ["mission", "gwno"]
    ]
    un_rows = live[["gwno", "mission"]].assign(un=True, evidence_year=as_of)
    non_un, last_year = _non_un_missions(tables, as_of)
    rows = pd.concat([un_rows, non_un], ignore_index=True)
    rows = apply_host_overrides(rows, as_of, overrides or {})
    missions = _mission_table(rows, tables, as_of)
    return MissionsResult(
        hosts=_host_table(missions),
        missions=missions,
        undated=undated,
        non_un_last_year=last_year,
    )


def override_for(mission: str, overrides: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The override entry of ``mission`` (its acronym, or a name ending in ' ' + acronym)."""
    for key in sorted(overrides):
        if mission == key or mission.endswith(f" {key}"):
            return key, overrides[key]
    return None


def apply_host_overrides(
    rows: pd.DataFrame, as_of: int, overrides: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """Replace the hosts of overridden missions and flag interstate-line missions.

    ``rows`` has ``gwno``, ``mission``, ``un``, ``evidence_year`` (one row per mission and
    host). An entry with ``hosts`` replaces the mission's host rows by those GW codes (by
    ``earlier_hosts`` when ``as_of`` is before ``from_year``); an entry without keeps them.
    Adds ``interstate`` (bool). Duplicate mission × host rows are dropped.
    """
    out = []
    for mission, g in rows.groupby("mission", sort=True):
        found = override_for(str(mission), overrides)
        entry = found[1] if found else {}
        hosts = entry.get("hosts")
        start = entry.get("from_year")
        if hosts is not None and start is not None and as_of < int(start):
            hosts = entry.get("earlier_hosts") or []
        if hosts is not None:
            first = g.iloc[0]
            g = pd.DataFrame(
                {
                    "gwno": [int(h) for h in hosts],
                    "mission": mission,
                    "un": first["un"],
                    "evidence_year": g["evidence_year"].max(),
                }
            )
        out.append(g.assign(interstate=bool(entry.get("interstate", False))))
    if not out:
        return rows.assign(interstate=False)
    merged = pd.concat(out, ignore_index=True).astype({"gwno": "int64"})
    return merged.drop_duplicates(["mission", "gwno"], ignore_index=True)


def _mission_table(
    rows: pd.DataFrame, tables: Mapping[str, pd.DataFrame], as_of: int
) -> pd.DataFrame:
    """One row per mission and host with status and strength (:data:`MISSION_COLUMNS`)."""
    rows = rows.rename(columns={"evidence_year": "last_recorded_year"})
    rows["last_recorded_year"] = rows["last_recorded_year"].astype("Int64")
    recorded = rows["last_recorded_year"] >= as_of
    rows["status"] = [
        "active" if ok else f"not recorded since {int(y)}"
        for ok, y in zip(recorded, rows["last_recorded_year"], strict=True)
    ]
    strength = _strengths(tables, as_of)
    rows = rows.merge(strength, on=["mission", "gwno"], how="left")
    rows = _merge_aliases(rows)
    rows = rows.astype(
        {"strength": "Int64", "strength_year": "Int64", "un": bool, "interstate": bool}
    )
    rows = rows[list(MISSION_COLUMNS)]
    return rows.sort_values(["gwno", "mission"], ignore_index=True)


def _merge_aliases(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per host for a mission named twice (KFOR and NATO KFOR): the longer name,
    with the latest strength on record of either."""
    parts = []
    for _, g in rows.groupby("gwno", sort=True):
        kept = _dedupe(sorted(set(g["mission"])))
        alias = {
            n: next((m for m in kept if re.search(rf"\b{re.escape(n)}\b", m, re.I)), n)
            for n in g["mission"]
        }
        g = g.assign(mission=g["mission"].map(alias))
        g = g.sort_values(["strength_year", "mission"], na_position="first")
        parts.append(g.drop_duplicates("mission", keep="last"))
    return pd.concat(parts, ignore_index=True) if parts else rows


def _strengths(tables: Mapping[str, pd.DataFrame], as_of: int) -> pd.DataFrame:
    """Latest deployed personnel per mission and host on or before ``as_of``, and its year."""
    parts = []
    un = tables.get("un_personnel")
    if un is not None and len(un):
        parts.append(un.loc[un["year"] <= as_of].assign(strength=un["total"]))
    bh = tables.get("bara_hultman")
    if bh is not None and len(bh):
        sel = bh.loc[(bh["year"] <= as_of) & bh["org"].isin([2, 3]) & bh["mission"].notna()]
        people = sel[["troops", "police", "observers"]].sum(axis=1, min_count=1)
        parts.append(sel.assign(mission=sel["mission"].str.strip(), strength=people))
    cols = ["mission", "gwno", "year", "month", "strength"]
    if not parts:
        return pd.DataFrame(columns=["mission", "gwno", "strength", "strength_year"])
    data = pd.concat([p[cols] for p in parts], ignore_index=True).dropna(subset=["strength"])
    last = data.sort_values(["year", "month"]).drop_duplicates(["mission", "gwno"], keep="last")
    last = last.rename(columns={"year": "strength_year"})
    last["gwno"] = last["gwno"].astype("int64")
    last["strength"] = last["strength"].round().astype("Int64")
    return last[["mission", "gwno", "strength", "strength_year"]]


def _host_table(missions: pd.DataFrame) -> pd.DataFrame:
    """One row per host from the mission table (the batch job's scope)."""
    out = []
    for gwno, g in missions.groupby("gwno", sort=True):
        un_names = sorted(set(g.loc[g["un"], "mission"]))
        other = _dedupe(sorted(set(g.loc[~g["un"], "mission"])))
        years = g.loc[~g["un"], "last_recorded_year"].dropna()
        out.append(
            {
                "gwno": int(gwno),
                "missions": "; ".join(un_names + other),
                "un": bool(un_names),
                "non_un": bool(other),
                "non_un_evidence_year": int(years.max()) if len(years) else pd.NA,
                "interstate": bool(g["interstate"].all()),
            }
        )
    cols = ["gwno", "missions", "un", "non_un", "non_un_evidence_year", "interstate"]
    hosts = pd.DataFrame(out, columns=cols)
    return hosts.astype(
        {
            "gwno": "int64",
            "un": bool,
            "non_un": bool,
            "non_un_evidence_year": "Int64",
            "interstate": bool,
        }
    )


def _non_un_missions(
    tables: Mapping[str, pd.DataFrame], as_of: int
) -> tuple[pd.DataFrame, int | None]:
    """Non-UN missions from the latest non-UN record ≤ ``as_of`` (carried forward)."""
    frames = []
    last_years = []
    mb = tables.get("mullenbach")
    if mb is not None and len(mb):
        last = int(min(max(mb["start_year"].max(), mb["end_year"].max()), as_of))
        last_years.append(last)
        sel = mb.loc[mb["tptype"].isin([2, 3]) & (mb["start_year"] <= as_of)]
        open_ = sel["end_year"].isna() & (sel["ongoing"] == 1)
        sel = sel.loc[(open_ | (sel["end_year"] > as_of)).fillna(False).astype(bool)]
        if len(sel):
            part = pd.DataFrame(
                {
                    "gwno": sel["gwno"].to_numpy(),
                    "mission": sel["mission"].map(_mullenbach_acronym).to_numpy(),
                }
            )
            frames.append(part.assign(evidence_year=last))
    bh = tables.get("bara_hultman")
    if bh is not None and len(bh):
        seen = bh.loc[bh["year"] <= as_of]
        if len(seen):
            month_index = seen["year"] * 12 + seen["month"] - 1
            last_month = int(month_index.max())
            last_year = last_month // 12
            last_years.append(last_year)
            sel = seen.loc[
                (month_index == last_month) & seen["org"].isin([2, 3]) & seen["mission"].notna()
            ]
            part = pd.DataFrame(
                {
                    "gwno": sel["gwno"].to_numpy(),
                    "mission": sel["mission"].str.strip().to_numpy(),
                }
            )
            frames.append(part.assign(evidence_year=last_year))
    if not frames:
        return pd.DataFrame(columns=["gwno", "mission", "un", "evidence_year"]), None
    rows = pd.concat(frames, ignore_index=True)
    return rows.assign(un=False), max(last_years)


def _mullenbach_acronym(name: str) -> str:
    """'NATO Kosovo Force (NATO KFOR)' → 'NATO KFOR'; 'X (EUFOR - Bosnia)' → 'EUFOR'; the
    name before any ' / ' when no parenthesis holds an acronym."""
    found = [f for f in re.findall(r"\(([^()]*)\)", str(name)) if re.search(r"[A-Z]{2}", f)]
    if not found:
        return re.sub(r"\s*\([^()]*\)", "", str(name)).split(" / ")[0].strip()
    return found[-1].split(" - ")[0].strip()


def _dedupe(names: list[str]) -> list[str]:
    """Drop a name contained in another (KFOR in NATO KFOR; EUFOR in EUFOR Althea)."""
    keep = [
        n
        for n in names
        if not any(n != m and re.search(rf"\b{re.escape(n)}\b", m, re.IGNORECASE) for m in names)
    ]
    return sorted(keep, key=str.casefold)
