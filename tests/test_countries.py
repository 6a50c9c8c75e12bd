"""Country-code traps: every known one is handled explicitly."""

from __future__ import annotations

import pandas as pd
import pytest

from relapse.countries import cow_to_gw, iso3_to_gw, map_country_codes, name_to_iso3
from relapse.errors import DataError

pytestmark = pytest.mark.snapshot


@pytest.mark.parametrize(
    ("iso3", "gw"),
    [
        ("SRB", 345),  # Serbia continues Yugoslavia's 345, as in UCDP
        ("YUG", 345),
        ("MNE", 341),
        ("XKX", 347),  # Kosovo
        ("SDN", 625),
        ("SSD", 626),
        ("YEM", 678),  # unified Yemen continues North Yemen (country_converter says 680)
        ("YMD", 680),
        ("DEU", 260),  # unified Germany continues the FRG (not 255, Prussia)
        ("DDR", 265),
        ("VNM", 816),  # country_converter says 817 (South Vietnam)
        ("VDR", 817),
        ("ETH", 530),
        ("ERI", 531),
        ("SLE", 451),
        ("LBR", 450),
        ("COD", 490),
        ("CSK", 315),  # Czechoslovakia (ISO 3166-3)
        ("SUN", 365),  # the USSR continues as Russia in GW
    ],
)
def test_iso3_traps(data_dir, iso3, gw) -> None:
    assert iso3_to_gw([iso3], data_dir).iloc[0] == gw


@pytest.mark.parametrize(
    ("cow", "gw"),
    [
        (255, 260),
        (679, 678),
        (345, 345),
        (347, 347),
        (626, 626),
        (531, 531),
        (816, 816),
        (2, 2),
        (451, 451),
    ],
)
def test_cow_traps(data_dir, cow, gw) -> None:
    assert cow_to_gw([cow], data_dir).iloc[0] == gw


def test_unknown_cow_code_is_not_guessed(data_dir) -> None:
    assert pd.isna(cow_to_gw([999], data_dir).iloc[0])


@pytest.mark.parametrize(
    ("name", "iso3"),
    [
        ("Sierra Leone", "SLE"),
        ("Kosovo", "XKX"),
        ("South Sudan", "SSD"),
        ("Democratic Republic of the Congo", "COD"),
        ("Cote d'Ivoire", "CIV"),
        ("Yugoslavia", "SRB"),
    ],
)
def test_names(name, iso3) -> None:
    assert name_to_iso3([name]).iloc[0] == iso3


def test_aggregates_excluded_and_counted_unknown_codes_reported(data_dir) -> None:
    df = pd.DataFrame({"code": ["SLE", "WLD", "WLD", "SSF"]})
    out, excluded = map_country_codes(df, "code", "iso3", data_dir, source="x.csv")
    assert out["gwno"].tolist() == [451]
    assert excluded == {"WLD": 2, "SSF": 1}
    with pytest.raises(DataError, match=r"x\.csv: 1 country code.*XYZ"):
        map_country_codes(
            pd.DataFrame({"code": ["SLE", "XYZ"]}), "code", "iso3", data_dir, source="x.csv"
        )
