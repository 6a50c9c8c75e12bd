"""Every shipped config composes; a wrong key or value fails at compose time."""

from __future__ import annotations

import pytest

from relapse import config
from relapse.config import FAMILIES, compose_config, config_dir
from relapse.errors import ConfigError

PRIMARY = sorted(p.stem for p in config_dir().glob("*.yaml"))


def test_the_one_primary_config_composes() -> None:
    assert PRIMARY == [config.PRIMARY_CONFIG]  # every command composes conf/relapse.yaml
    cfg = compose_config()
    assert cfg.target.horizons == [1, 2, 5]
    assert list(cfg.features.families) == list(FAMILIES)


def test_every_registered_feature_has_one_known_family() -> None:
    cfg = compose_config()
    assert cfg.features.registry, "the registry is empty"
    for name, spec in cfg.features.registry.items():
        assert spec.family in FAMILIES, name
        assert spec.description and spec.unit and spec.sources, name


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("target.windw=3", "windw"),
        ("target.horizons=[0]", "horizons must be positive"),
        ("target.horizons=[1,1]", "duplicates"),
        ("target.window_years=0", "window_years"),
        ("target.level=episode", "target.level"),
        ("target.conflict_types=[7]", "conflict_types"),
        ("features.source_lags.ucdp_acd=-1", "must be >= 0"),
        ("features.families=[mission,weather]", "unknown families"),
        ("model.calibration=sigmoid", "calibration"),
        ("score.scope=everyone", "score.scope"),
        ("target.window_years=ten", "window_years"),
        ("data=nonexistent", "nonexistent"),
    ],
)
def test_bad_config_is_rejected(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        compose_config([override])


def test_families_can_be_switched_off() -> None:
    cfg = compose_config(["features.families=[mission,economy]"])
    assert list(cfg.features.families) == ["mission", "economy"]


def test_data_dir_follows_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RELAPSE_DATA_DIR", str(tmp_path))
    assert compose_config().paths.data_dir == str(tmp_path)
    monkeypatch.delenv("RELAPSE_DATA_DIR")
    assert compose_config().paths.data_dir == "data/raw"
    assert compose_config(["paths.data_dir=/x"]).paths.data_dir == "/x"


def test_every_key_named_in_command_help_exists() -> None:
    """The per-command help must not advertise a key the schema does not have."""
    import re

    from omegaconf import OmegaConf

    from relapse.cli import COMMAND_OPTIONS

    cfg = compose_config()
    missing = object()
    keys = {
        k
        for text in COMMAND_OPTIONS.values()
        for k in re.findall(r"'?\b([a-z_]+(?:\.[a-z_]+)+)=", text)
    }
    assert keys, "no keys found in the help texts"
    absent = sorted(k for k in keys if OmegaConf.select(cfg, k, default=missing) is missing)
    assert not absent, f"help names unknown keys: {absent}"


EXPERIMENTS = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_overrides_only_what_it_names(name: str) -> None:
    base = compose_config()
    cfg = compose_config([f"experiment={name}"])
    assert cfg.tags.experiment == name
    assert cfg.target == base.target and cfg.split == base.split  # experiments change models


def test_every_family_has_a_builder_a_registry_file_and_a_label() -> None:
    """One list of families (relapse.config.Family): everything keyed by family covers it."""
    import yaml

    from relapse.features import FAMILY_MODULES
    from relapse.report.words import FAMILY_LABELS

    families = set(FAMILIES)
    assert set(FAMILY_MODULES) == families and set(FAMILY_LABELS) == families
    for family, module in FAMILY_MODULES.items():
        assert module.__name__ == f"relapse.features.{family}"
    registry = config_dir() / "features"
    assert {p.stem for p in (registry / "registry").glob("*.yaml")} == families
    defaults = yaml.safe_load((registry / "default.yaml").read_text())["defaults"]
    assert sorted(d for d in defaults if d != "_self_") == sorted(f"registry/{f}" for f in families)


@pytest.mark.parametrize(
    "families", [None, "[conflict_legacy,mission]", "[economy,conflict_legacy,elections]"]
)
def test_feature_columns_are_the_enabled_rows_of_the_registry_table(families) -> None:
    from relapse.features import feature_columns, registry_table

    cfg = compose_config([] if families is None else [f"features.families={families}"])
    table = registry_table(cfg)
    assert feature_columns(cfg) == table.loc[table["enabled"], "name"].tolist()


def test_vocabulary_values_are_the_yaml_strings() -> None:
    from omegaconf import OmegaConf

    from relapse.config import Calibration, TargetLevel

    cfg = compose_config(["target=conflict", "model.calibration=logistic"])
    assert cfg.target.level is TargetLevel.conflict and cfg.target.level == "conflict"
    assert cfg.model.calibration is Calibration.logistic
    assert f"{cfg.model.calibration}" == "logistic" and repr(cfg.target.level) == "'conflict'"
    assert "level: conflict" in OmegaConf.to_yaml(cfg)
    assert config.to_container(cfg)["target"]["level"] == "conflict"
