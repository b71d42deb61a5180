"""The environment files agree: environment.yml lists exactly pyproject's packages with the same ranges, and
constraints.txt pins every one of them within those ranges."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {canonicalize_name(Requirement(line).name): Requirement(line) for line in lines}


def test_environment_yml_matches_pyproject() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda = {canonicalize_name(Requirement(line).name): Requirement(line) for line in pip_block}
    assert "python=3.11" in env["dependencies"]
    project = pyproject_requirements()
    assert set(conda) == set(project), (
        f"only in environment.yml: {set(conda) - set(project)}; only in pyproject.toml: {set(project) - set(conda)}"
    )
    for name, requirement in project.items():
        assert conda[name].specifier == requirement.specifier, f"{name}: {conda[name]} vs {requirement}"


def test_constraints_pin_every_dependency_within_its_range() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = next(iter(requirement.specifier)).version
    for name, requirement in pyproject_requirements().items():
        assert name in pins, f"constraints.txt does not pin {name}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} not in {requirement}"
        )
    assert pins["jupyter-book"].startswith("1.")
