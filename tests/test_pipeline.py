"""The pipeline and the command line: config validation, the results table, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmrec import ConfigError, RunConfig, run
from llmrec.__main__ import main
from llmrec.data import Dataset
from llmrec.testing import tiny_interactions

TINY = Dataset("tiny", tiny_interactions())


def test_run_on_tiny_data() -> None:
    result = run(RunConfig(models=["pop", "itemknn"], k=5), data=TINY, progress=False)
    assert result.table["model"].tolist() == ["pop", "itemknn"]
    assert list(result.table.columns) == [
        "model",
        "dataset",
        "HR@5",
        "NDCG@5",
        "MRR@5",
        "Recall@5",
        "Precision@5",
        "F1@5",
        "Coverage@5",
    ]
    again = run(RunConfig(models=["pop", "itemknn"], k=5), data=TINY, progress=False)
    assert result.table.equals(again.table)
    assert set(result.evaluations) == {"pop", "itemknn"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"dataset": "ml-20m"}, "dataset"),
        ({"models": ["pop", "svdpp"]}, "models"),
        ({"models": []}, "models"),
        ({"metrics": ["AUC"]}, "metrics"),
        ({"k": 0}, "k"),
        ({"k": "10"}, "k"),
        ({"seed": 1.5}, "seed"),
        ({"split": "weird"}, "split"),
        ({"stage": "train"}, "stage"),
        ({"params": {"bpr": {}}}, "params.bpr"),
        ({"params": {"itemknn": 5}}, "params.itemknn"),
        ({"params": ["itemknn"]}, "params"),
        ({"modles": ["pop"]}, "modles"),
    ],
)
def test_config_errors_name_the_field(values: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=f"config field '{field}'"):
        RunConfig.from_dict(values)


def test_config_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"dataset": "ml-100k",\n "k": }')
    with pytest.raises(ConfigError, match="line 2: invalid JSON"):
        RunConfig.from_file(bad)
    with pytest.raises(ConfigError, match="not found"):
        RunConfig.from_file(tmp_path / "missing.json")


def test_cli_reports_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--models", "pop,nope", "--no-progress"]) == 2
    assert "config field 'models'" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_run_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "r.json"
    assert (
        main(["run", "--dataset", "ml-100k", "--models", "pop,itemknn", "--output", str(output), "--no-progress"]) == 0
    )
    printed = capsys.readouterr().out
    assert "itemknn" in printed and "NDCG@10" in printed
    rows = json.loads(output.read_text())["rows"]
    assert [r["model"] for r in rows] == ["pop", "itemknn"]
    assert set(rows[0]) == {
        "model",
        "dataset",
        "HR@10",
        "NDCG@10",
        "MRR@10",
        "Recall@10",
        "Precision@10",
        "F1@10",
        "Coverage@10",
    }
    assert rows[0]["dataset"] == "ml-100k"
    assert rows[0]["NDCG@10"] == pytest.approx(0.04491, abs=5e-5)
    assert rows[1]["NDCG@10"] > rows[0]["NDCG@10"]


# ----------------------------------------------------------------------------- command line: one line per user error
def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


def test_cli_config_file_missing_or_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"
    assert main(["run", "--config", str(missing), "--no-progress"]) == 2
    assert str(missing) in one_error_line(capsys)
    bad = tmp_path / "bad.json"
    bad.write_text('{"models": ["pop"],\n "k": }')
    assert main(["run", "--config", str(bad), "--no-progress"]) == 2
    line = one_error_line(capsys)
    assert str(bad) in line and "line 2" in line
    listed = tmp_path / "list.json"
    listed.write_text('["pop"]')
    assert main(["run", "--config", str(listed), "--no-progress"]) == 2
    assert str(listed) in one_error_line(capsys)


def test_cli_bad_model_parameter_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"models": ["pop", "itemknn"], "params": {"itemknn": {"neighbours": 0}}}))
    assert main(["run", "--config", str(config), "--no-progress"]) == 2
    line = one_error_line(capsys)
    assert "config field 'params.itemknn'" in line and "neighbours" in line


def test_bad_model_parameter_is_a_config_error_before_loading_data() -> None:
    with pytest.raises(ConfigError, match=r"config field 'params\.itemknn'.*neighbours"):
        RunConfig.from_dict({"models": ["itemknn"], "params": {"itemknn": {"neighbours": 0}}})
    with pytest.raises(ConfigError, match=r"config field 'params\.itemknn'.*unexpected keyword"):
        RunConfig.from_dict({"models": ["itemknn"], "params": {"itemknn": {"k": 5}}})


def test_cli_unknown_dataset_to_fetch(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "ml-20m"]) == 2
    assert "ml-20m" in one_error_line(capsys)


def test_cli_internal_bug_stays_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import llmrec.pipeline

    def broken(*args, **kwargs):
        raise KeyError("an internal bug")

    monkeypatch.setattr(llmrec.pipeline, "run", broken)
    with pytest.raises(KeyError, match="an internal bug"):
        main(["run", "--models", "pop", "--no-progress"])


def test_cli_as_a_process_prints_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    config = tmp_path / "c.json"
    config.write_text(json.dumps({"models": ["itemknn"], "params": {"itemknn": {"neighbours": 0}}}))
    result = subprocess.run(
        [sys.executable, "-m", "llmrec", "run", "--config", str(config), "--no-progress"],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[1] / "src")},
        check=False,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "params.itemknn" in result.stderr
