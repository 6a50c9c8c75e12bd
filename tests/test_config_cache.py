"""The composition cache: the same config as Hydra's, and never a stale or foreign one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from relapse import config
from relapse.config import COMPOSE_CACHE_ENV, compose_config

OVERRIDES = ["target=conflict", "model.calibration=logistic", "target.horizons=[1,5]"]


@pytest.fixture
def cache(monkeypatch, tmp_path) -> Path:
    """An empty cache directory of this test (and an empty in-process memo)."""
    monkeypatch.setenv(COMPOSE_CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(config, "_MEMO", {})
    return tmp_path / "cache" / "compose"


def _fresh(overrides: list[str]) -> str:
    return OmegaConf.to_yaml(config._hydra_compose(overrides))


@pytest.mark.parametrize("overrides", [[], OVERRIDES])
def test_cached_config_is_hydras(cache, monkeypatch, overrides) -> None:
    first = compose_config(overrides)
    assert len(list(cache.glob("*.pickle"))) == 1
    monkeypatch.setattr(config, "_MEMO", {})  # the next process: read from disk
    second = compose_config(overrides)
    assert OmegaConf.to_yaml(second) == OmegaConf.to_yaml(first) == _fresh(overrides)
    assert OmegaConf.is_struct(second)
    assert OmegaConf.get_type(second.features.registry["mis_un_present"]) is config.FeatureSpec
    assert second is not compose_config(overrides)  # callers may change their copy


def test_environment_is_read_after_the_cache(cache, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RELAPSE_DATA_DIR", str(tmp_path / "a"))
    assert compose_config().paths.data_dir == str(tmp_path / "a")
    monkeypatch.setenv("RELAPSE_DATA_DIR", str(tmp_path / "b"))
    assert compose_config().paths.data_dir == str(tmp_path / "b")


def test_an_edited_config_file_is_composed_again(cache, monkeypatch, tmp_path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(config.config_dir(), conf)
    monkeypatch.setattr(config, "config_dir", lambda: conf)
    assert compose_config().features.neighbour_km == 100
    default = conf / "features" / "default.yaml"
    default.write_text(default.read_text().replace("neighbour_km: 100", "neighbour_km: 50"))
    assert compose_config().features.neighbour_km == 50
    assert len(list(cache.glob("*.pickle"))) == 2


def test_validation_runs_on_a_cached_config(cache) -> None:
    with pytest.raises(config.ConfigError, match="window_years"):
        compose_config(["target.window_years=0"])
    with pytest.raises(config.ConfigError, match="window_years"):
        compose_config(["target.window_years=0"])


def test_damaged_or_shared_cache_is_not_read(cache, monkeypatch) -> None:
    expected = OmegaConf.to_yaml(compose_config())
    (entry,) = cache.glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    monkeypatch.setattr(config, "_MEMO", {})
    assert OmegaConf.to_yaml(compose_config()) == expected
    cache.chmod(0o777)  # writable by others: never unpickled from
    monkeypatch.setattr(config, "_MEMO", {})
    monkeypatch.setattr(config, "_hydra_compose", lambda *a: pytest.fail("not composed"))
    with pytest.raises(pytest.fail.Exception, match="not composed"):
        compose_config()


def test_cache_can_be_switched_off(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(COMPOSE_CACHE_ENV, "")
    monkeypatch.setattr(config, "_MEMO", {})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compose_config().target.level == "country"
    assert not list(tmp_path.rglob("*.pickle"))
