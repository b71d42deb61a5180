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
