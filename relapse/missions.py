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

* **Western Sahara** (MINURSO) is not a Gleditsch–Ward state; the crosswalk lists Morocco
  (``MAR``) as host. MINURSO is reported as a *non-state host* (``ESH``, no GW code) in
  :attr:`MissionsResult.non_state_hosts` instead of being attributed to Morocco.
* Missions whose dates are blank in the UN list (UNOHCI: marked active but with no start
  date) cannot be placed in time; they are listed in :attr:`MissionsResult.undated`. Missions
  with no single host in the crosswalk (UNFOR, also undated; UNPF; the umbrella rows UNEF,
  UNAVEM, UNOSOM) are excluded by the ``un_mission_list`` loader and recorded in its
  ``notes['missions_without_single_host']``.
* Mullenbach's "Serbia/Kosovo" missions (KFOR, EULEX) are hosted by Serbia (GW 345) and, once
  it is a state (2008), Kosovo (GW 347), as the UN crosswalk does for UNMIK.
* Mullenbach codes UNAMI (Iraq) with the Philippines' COW code 840; UN-led rows are not used,
  so the error does not propagate. Mullenbach's ``mission`` (name and place) is shortened to
  its acronym here (:func:`_mullenbach_acronym`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from relapse.sources import load_tables

NON_STATE_HOSTS: dict[str, tuple[str, str]] = {"MINURSO": ("ESH", "Western Sahara")}
"""UN missions whose host is not a GW state: acronym → (ISO3-like code, name)."""

KOSOVO_GW = 347
KOSOVO_FIRST_YEAR = 2008

MISSION_SOURCE_KEYS: tuple[str, ...] = ("un_mission_list", "mullenbach", "bara_hultman")
"""Registered sources (:mod:`relapse.sources.peacekeeping`) read here (the mission list's
loader joins and verifies ``crosswalks/un_pko_mission_to_iso3.csv`` itself)."""


@dataclass
class MissionsResult:
    """Mission hosts at the end of one year, and what could not be placed."""

    hosts: pd.DataFrame
    """One row per GW host: ``gwno``, ``missions`` ('; '-joined acronyms, UN first),
    ``un``, ``non_un`` (bool), ``non_un_evidence_year`` (Int64: the year of the non-UN
    record used; < ``as_of`` when carried forward)."""
    non_state_hosts: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Hosts that are not GW states: ``iso3``, ``country``, ``missions``."""
    undated: list[str] = field(default_factory=list)
    """UN missions with a blank start date (cannot be placed in time)."""
    non_un_last_year: int | None = None
    """The last year covered by any non-UN source."""


def load_mission_tables(data_dir: Path | str, *, verify: bool = True) -> dict[str, pd.DataFrame]:
    """Load the mission sources (checked against ``MANIFEST.csv`` when ``verify``)."""
    return load_tables(MISSION_SOURCE_KEYS, data_dir, verify=verify)


def active_missions(tables: Mapping[str, pd.DataFrame], as_of: int) -> MissionsResult:
    """Countries hosting a UN or non-UN mission active at the end of ``as_of``.

    Parameters
    ----------
    tables
        Output of :func:`load_mission_tables`.
    as_of
        The year; UN missions must be active on 31 December of it.

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
    special = live["mission"].isin(list(NON_STATE_HOSTS))
    non_state = pd.DataFrame(
        [
            {"iso3": NON_STATE_HOSTS[m][0], "country": NON_STATE_HOSTS[m][1], "missions": m}
            for m in sorted(live.loc[special, "mission"].unique())
        ],
        columns=["iso3", "country", "missions"],
    )
    live = live.loc[~special]
    un_rows = live[["gwno", "mission"]].assign(un=True, evidence_year=pd.NA)

    non_un, last_year = _non_un_missions(tables, as_of)
    rows = pd.concat([un_rows, non_un], ignore_index=True)
    rows["gwno"] = rows["gwno"].astype("int64")
    out = []
    for gwno, g in rows.groupby("gwno", sort=True):
        un_names = sorted(set(g.loc[g["un"], "mission"]))
        other = _dedupe(sorted(set(g.loc[~g["un"], "mission"])))
        years = g.loc[~g["un"], "evidence_year"].dropna()
        out.append(
            {
                "gwno": int(gwno),
                "missions": "; ".join(un_names + other),
                "un": bool(un_names),
                "non_un": bool(other),
                "non_un_evidence_year": int(years.max()) if len(years) else pd.NA,
            }
        )
    hosts_out = pd.DataFrame(
        out, columns=["gwno", "missions", "un", "non_un", "non_un_evidence_year"]
    )
    hosts_out = hosts_out.astype(
        {"gwno": "int64", "un": bool, "non_un": bool, "non_un_evidence_year": "Int64"}
    )
    return MissionsResult(
        hosts=hosts_out, non_state_hosts=non_state, undated=undated, non_un_last_year=last_year
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
                    "state": sel["state"].to_numpy(),
                }
            )
            kosovo = part.loc[
                part["state"].str.contains("Kosovo", case=False) & (as_of >= KOSOVO_FIRST_YEAR)
            ].assign(gwno=KOSOVO_GW)
            part = pd.concat([part, kosovo], ignore_index=True).drop(columns="state")
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
                    "location": sel["location"].to_numpy(),
                }
            )
            kosovo = part.loc[
                part["location"].str.contains("Serbia", case=False)
                & part["mission"].isin(["KFOR", "EULEX"])
                & (as_of >= KOSOVO_FIRST_YEAR)
            ].assign(gwno=KOSOVO_GW)
            part = pd.concat([part, kosovo], ignore_index=True).drop(columns="location")
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
