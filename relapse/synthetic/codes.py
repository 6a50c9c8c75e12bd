"""Codes of the synthetic states: Gleditsch–Ward (= COW) and ISO3 codes no real or special
country has, and invented names (see the package docstring)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from relapse import countries
from relapse.errors import DataError
from relapse.features import mission
from relapse.sources import economic, governance, peacekeeping
from relapse.sources.base import COUNTRY_CODE_MAX

MAX_UNITS = 15_000
"""Upper bound of ``data.n_units`` (three-letter ISO3 codes run out near 17,000)."""

# GW and COW codes of the real state system (2018 snapshot): never given to a synthetic state.
_REAL_CODES_TEXT = """
2 20 31 40 41 42 51 52 53 54 55 56 57 58 60 70 80 89 90 91 92 93 94 95 99 100 101 110 115 130
135 140 145 150 155 160 165 200 205 210 211 212 220 221 223 225 230 232 235 240 245 255 260 265
267 269 271 273 275 280 290 300 305 310 315 316 317 325 327 329 331 332 335 337 338 339 340 341
343 344 345 346 347 349 350 352 355 359 360 365 366 367 368 369 370 371 372 373 375 380 385 390
393 395 402 403 404 411 420 432 433 434 435 436 437 438 439 450 451 452 461 471 475 481 482 483
484 490 500 501 510 511 516 517 520 522 530 531 540 541 551 552 553 560 563 564 565 570 571 572
580 581 590 591 600 615 616 620 625 626 630 640 645 651 652 660 663 666 670 678 679 680 690 692
694 696 698 700 701 702 703 704 705 710 711 712 713 730 731 732 740 750 760 770 771 775 780 781
790 800 811 812 815 816 817 820 830 835 840 850 851 860 900 910 920 935 940 941 946 947 950 955
970 983 986 987 990
"""
_REAL_CODES = frozenset(int(c) for c in _REAL_CODES_TEXT.split())

# ISO3 codes of real countries, territories and V-Dem units (country_converter and the
# snapshot's crosswalk): never given to a synthetic state.
_REAL_ISO3_TEXT = """
ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BDN BEL BEN BES BFA BGD
BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BRW BTN BVR BVT BWA CAF CAN CCK CHE CHL CHN CIV
CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DDR DEU DJI DMA DNK DOM DZA ECU EGY ERI
ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
GTM GUF GUM GUY HDM HKG HKS HMD HND HRG HRV HTI HUN HVR IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA
JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC
MAF MAR MCL MCO MDA MDG MDN MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS
MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NSS NZL OLD OMN PAK PAN PCN PER PHL PLW PNG POL
PPS PRI PRK PRM PRT PRY PSB PSE PSG PYF QAT REU ROU RUS RWA SAU SAX SDN SEN SGP SGS SHN SJM SLB
SLE SLV SML SMR SOM SPD SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SXN SYC SYR TCA TCD TGO THA TJK
TKL TKM TLS TON TSC TTO TUN TUR TUV TWN TWS TZA UGA UKR UMI URY USA UZB VAT VCT VDR VEN VGB VIR
VNM VUT WLF WRG WSM XKX YEM YMD ZAF ZMB ZWE ZZB
"""
_REAL_ISO3 = frozenset(_REAL_ISO3_TEXT.split())


def _special_codes() -> tuple[set[int], set[str]]:
    """Numeric and ISO3 codes named by any upper-case constant of the modules that map
    country codes (trap tables, microstate and non-state lists, era tables...): a synthetic
    state never gets one of them, so no loader treats it specially."""
    numbers: set[int] = set()
    letters: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int) and 0 < value <= 99_999:
            numbers.add(value)
        elif isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper():
            letters.add(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, (set, frozenset, tuple, list)):
            for v in value:
                walk(v)

    for module in (countries, economic, governance, peacekeeping, mission):
        for name, value in vars(module).items():
            if name.isupper() or (name.startswith("_") and name[1:].isupper()):
                walk(value)
    return numbers, letters


def unit_codes(n_units: int) -> pd.DataFrame:
    """GW (= COW) code, ISO3 code and name of each synthetic state (see the package docstring).

    Raises
    ------
    DataError
        If ``n_units`` exceeds :data:`MAX_UNITS`.
    """
    if not 1 <= n_units <= MAX_UNITS:
        raise DataError(f"synthetic data: n_units must be 1-{MAX_UNITS}, got {n_units}")
    special_numbers, special_letters = _special_codes()
    taken = _REAL_CODES | special_numbers | {0, 1}
    small = [c for c in range(2, 1000) if c not in taken]
    large = range(1000, 1000 + max(0, n_units - len(small)))
    gw = np.array([*small, *large][:n_units], dtype=np.int64)
    if gw.max() > COUNTRY_CODE_MAX:
        raise DataError(f"synthetic data: {n_units} units need codes above {COUNTRY_CODE_MAX}")
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    user = (
        [f"X{a}{b}" for a in letters for b in letters]
        + [f"Q{a}{b}" for a in letters[12:] for b in letters]
        + [f"AA{a}" for a in letters]
        + [f"ZZ{a}" for a in letters]
    )
    rest = [f"{a}{b}{c}" for a in letters for b in letters for c in letters]
    # "NAN" would be read back as missing (Gapminder's ``geo`` is the lower-case code).
    excluded = _REAL_ISO3 | special_letters | {"NAN"}
    ordered = list(dict.fromkeys(c for c in [*user, *rest] if c not in excluded))
    names = np.array([f"Synthetic State {i + 1:05d}" for i in range(n_units)])
    return pd.DataFrame({"gwno": gw, "iso3": ordered[:n_units], "name": names})
