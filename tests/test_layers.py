"""The layers of ARCHITECTURE.md are enforced: import-linter's contracts fail on an arrow back up."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))


def _config() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]["importlinter"]


def _toml(config: dict) -> str:
    """Write the [tool.importlinter] tables back out (strings and lists of strings only)."""

    def value(v: object) -> str:
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        return '"' + str(v) + '"'

    lines = ["[tool.importlinter]"]
    lines += [f"{k} = {value(v)}" for k, v in config.items() if k != "contracts"]
    for contract in config["contracts"]:
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{k} = {value(v)}" for k, v in contract.items()]
    return "\n".join(lines) + "\n"


def _lint(tmp_path: Path, imports: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the project's contracts over empty stand-in packages with the given imports."""
    config = _config()
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(imports.get(package, ""))
    (tmp_path / "pyproject.toml").write_text(_toml(config))
    return subprocess.run([LINT_IMPORTS, "--no-cache", "--no-logo"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)


@pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is not installed (pip install -e '.[test]')")
def test_an_engine_module_importing_a_handler_breaks_the_engine_contract(tmp_path):
    # Given the project's contracts over packages where the engine imports a handler module
    # When import-linter checks them
    result = _lint(tmp_path, {"handlers": "import engine\n", "engine": "import handlers\n"})
    # Then the run fails, naming the contract and the arrow
    assert result.returncode != 0, result.stdout
    assert "engine imports no package above it BROKEN" in result.stdout
    assert "engine -> handlers" in result.stdout


@pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is not installed (pip install -e '.[test]')")
def test_imports_that_follow_the_layers_keep_every_contract(tmp_path):
    result = _lint(tmp_path, {"handlers": "import engine\n", "web": "import readmodels\nimport analytics\n"})
    assert result.returncode == 0, result.stdout
    assert "BROKEN" not in result.stdout
