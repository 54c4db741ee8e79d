from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import identity_diff, load_config, parse_config, shipped_configs
from harness.errors import UserError

BASE = {"policies": ["tests.harness.toy:greedy"], "suites": ["tests.harness.toy:toy_suite"], "episodes": 2}


def test_shipped_configs_load_by_name() -> None:
    assert "ci" in shipped_configs()
    for name in shipped_configs():
        cfg = load_config(name)
        assert cfg.policies and cfg.suites


def test_unknown_key_is_rejected_with_its_path() -> None:
    bad = {**BASE, "suites": [{"name": "x", "taks": ["a"]}]}
    with pytest.raises(UserError, match=r"suites\.0\.taks: unknown key"):
        parse_config(bad)


def test_bad_values_name_the_field() -> None:
    with pytest.raises(UserError, match="episodes"):
        parse_config({**BASE, "episodes": 0})
    with pytest.raises(UserError, match="workers"):
        parse_config({**BASE, "workers": 0})
    with pytest.raises(UserError, match="policies"):
        parse_config({**BASE, "policies": []})


def test_config_by_path_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text("policies: [tests.harness.toy:greedy]\nsuites: [tests.harness.toy:toy_suite]\n")
    cfg = load_config(str(path), {"episodes": 3, "workers": None})
    assert cfg.name == "my" and cfg.episodes == 3 and cfg.workers is None
    assert cfg.out_dir() == Path("results") / "my"


def test_unknown_shipped_config_suggests() -> None:
    with pytest.raises(UserError, match="did you mean 'ci'"):
        load_config("cii")


def test_identity_excludes_execution_settings() -> None:
    a = parse_config({**BASE, "workers": 1, "out": "x", "retries": 0})
    b = parse_config({**BASE, "workers": 2, "out": "y", "retries": 3, "video": True})
    c = parse_config({**BASE, "episodes": 3})
    assert a.config_hash() == b.config_hash()
    assert a.config_hash() != c.config_hash()
    assert identity_diff(a.identity(), c.identity()) == ["episodes: 2 -> 3"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("episodes", True),
        ("episodes", "2"),
        ("video", "yes"),
        ("seed", 1.0),
        ("retries", "1"),
        ("workers", 2.0),
    ],
)
def test_scalars_are_strict(key: str, value: object) -> None:
    with pytest.raises(UserError, match=rf"{key}: Input should be a valid \w+, got {value!r}"):
        parse_config({**BASE, key: value})


def test_suite_episodes_are_strict_and_timeouts_take_ints() -> None:
    with pytest.raises(UserError, match=r"suites\.0\.episodes"):
        parse_config({**BASE, "suites": [{"name": "x", "episodes": "3"}]})
    assert parse_config({**BASE, "episode_timeout_s": 900}).episode_timeout_s == 900.0


def test_malformed_yaml_is_one_line_with_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("policies: [tests.harness.toy:greedy]\nsuites:\n  - name: x\n   tasks: [a\n")
    with pytest.raises(UserError) as err:
        load_config(str(path))
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{path}:4:")
    assert "invalid YAML" in text


def test_a_config_path_that_is_a_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"is a directory; give a \.yaml file"):
        load_config(str(tmp_path))


def test_identity_diff_names_only_the_fields_that_differ() -> None:
    two = ["tests.harness.toy:greedy", {"name": "tests.harness.toy:noisy", "label": "noisy"}]
    a = parse_config({**BASE, "policies": two})
    changed = [two[0], {**two[1], "options": {"gain": 0.2}}]
    b = parse_config({**BASE, "policies": changed})
    assert identity_diff(a.identity(), b.identity()) == ["policies[noisy].options.gain: unset -> 0.2"]
    c = parse_config({**BASE, "policies": [*two, "tests.harness.toy:other"]})
    assert identity_diff(a.identity(), c.identity()) == ["policies: added 'tests.harness.toy:other'"]
    d = parse_config(
        {**BASE, "suites": [{"name": "tests.harness.toy:toy_suite", "tasks": ["reach_a", "reach_b"]}]}
    )
    e = parse_config(
        {**BASE, "suites": [{"name": "tests.harness.toy:toy_suite", "tasks": ["reach_a", "reach_c"]}]}
    )
    assert identity_diff(d.identity(), e.identity()) == [
        'suites[tests.harness.toy:toy_suite].tasks: removed ["reach_b"], added ["reach_c"]'
    ]


def test_wambench_run_reads_and_parses_its_config_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overrides (--tasks, --episodes over the config's suites) and the run see one reading."""
    import yaml

    from harness import config as config_module
    from harness import runner
    from harness.cli import main

    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump({**BASE, "suites": [{"name": "tests.harness.toy:toy_suite", "episodes": 1}]})
    )
    reads: list[str] = []
    real_read = config_module.read_config_text

    def counting_read(ref: str) -> tuple[str, str]:
        reads.append(ref)
        return real_read(ref)

    planned: list[object] = []

    def stop(config: object, shard: object = None) -> object:
        planned.append(config)
        raise UserError("stop here")

    monkeypatch.setattr(config_module, "read_config_text", counting_read)
    monkeypatch.setattr(runner, "plan", stop)
    assert main(["run", str(path), "--tasks", "reach_b", "--episodes", "3"]) == 2
    assert reads == [str(path)]
    (config,) = planned
    assert [(s.tasks, s.episodes) for s in config.suites] == [(["reach_b"], None)]  # type: ignore[attr-defined]
    assert config.episodes == 3  # type: ignore[attr-defined]
