"""The one `vistance` command: its help, and each subcommand reaching the module that does the job."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from vistance import cli

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "annotated" / "seed.jsonl"


def test_script_is_declared():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"vistance": "vistance.cli:main"}


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    names = (
        "train",
        "evaluate",
        "predict",
        "serve",
        "export",
        "batch",
        "annotate",
        "actors",
        "speakers",
        "data",
        "bench",
    )
    for name in names:
        assert f"    {name} " in out, name
    assert set(cli.COMMANDS) == set(names)


def test_unknown_or_missing_command_is_a_usage_error(capsys):
    for argv in ([], ["nope"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_command_is_its_alias_main(name):
    """`vistance NAME` runs the function the older spelling runs (python -m vistance.x, train.py, evaluate.py)."""
    alias = cli.COMMANDS[name].alias
    if alias.startswith("python -m "):
        module = importlib.import_module(alias.removeprefix("python -m "))
        if module.__spec__.submodule_search_locations:  # a package: its __main__ (annotate's exits on import)
            target = cli.COMMANDS[name].target
            assert target.startswith(module.__name__ + ".") and target.endswith(":main")
            return
        assert cli.resolve(name) is module.main
    else:  # the top-level scripts import the same function
        script = (ROOT / alias.removeprefix("python ")).read_text(encoding="utf-8")
        module, function = cli.COMMANDS[name].target.split(":")
        assert f"from {module} import" in script and function in script


def test_data_validate_runs_through_vistance(capsys):
    assert cli.main(["data", "validate", str(SEED)]) == 0
    assert f"{SEED}: OK" in capsys.readouterr().out


def test_command_errors_keep_their_exit_status(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    assert cli.main(["data", "validate", str(bad)]) == 1
    assert cli.main(["predict", "--model", str(tmp_path / "none"), "--input", str(SEED)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: ")


def test_train_and_evaluate_help_name_the_command(capsys):
    for name in ("train", "evaluate"):
        with pytest.raises(SystemExit) as e:
            cli.main([name, "--help"])
        assert e.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: vistance {name} ")
