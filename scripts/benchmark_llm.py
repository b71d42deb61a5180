"""Chapter 10's larger run: LLMRank zero-shot ranking with SmolLM2 for many users, one results file per run.

    make benchmark-llm
    .venv/bin/python scripts/benchmark_llm.py --dataset ml-100k --users 200 --styles sequential recency

The protocol is the notebook's (``llmrec.llm.candidate_protocol``: leave-one-out, test stage, 20 candidates = the
test item and 19 unseen items drawn uniformly, the 10 most recent training titles in the prompt, seed 42; the
notebook's users are the first users of the same seeded permutation). Candidates are scored by the LLM's mean
log-likelihood of each title (``llmrec.llm.zero_shot_scores``) and by popularity and BPR fitted through
``llmrec.pipeline.fit_evaluate`` with chapter 5's parameters. The file
``benchmarks/results/llm_zeroshot-<dataset>_<seed>.json`` holds, per model, NDCG@10 among the
candidates with a bootstrap 95 % interval over users, the per-user values, paired differences with popularity and
BPR (bootstrap interval, paired t-test and Wilcoxon p-values), seconds per user, total seconds, peak memory,
command line, git commit, seed and the machine (cores, threads, torch version, load average at the start). The
file is rewritten after every ``--chunk`` users, so a run stopped early leaves the results of the users done.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from llmrec import leave_one_out, load_dataset
from llmrec.llm import (
    baseline_candidate_scores,
    candidate_ndcg,
    candidate_protocol,
    load_causal_lm,
    paired_summary,
    zero_shot_scores,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
#: Chapter 5's BPR (notebook 05's parameters, so a build's fit cache can share it).
BASELINES = {"pop": {}, "bpr": {"epochs": 30, "embedding_size": 64}}


def result_file(dataset: str, seed: int, folder: Path = RESULTS) -> Path:
    return folder / f"llm_zeroshot-{dataset}_{seed}.json"


def machine(load_average: float) -> dict:
    return {
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "load_average_at_start": load_average,
    }


def summarise(args: argparse.Namespace, per_user: dict[str, np.ndarray], done: int) -> tuple[dict, dict]:
    """Per-model summaries and paired differences of the LLM with each baseline, over the first ``done`` users."""
    values = {name: v[:done] for name, v in per_user.items()}
    results = {name: paired_summary(v, seed=args.seed) for name, v in values.items()}
    paired = {
        f"{name}_minus_{base}": paired_summary(values[name], values[base], seed=args.seed)
        for name in values
        if name.startswith("llm_")
        for base in BASELINES
    }
    return results, paired


def run(args: argparse.Namespace, path: Path) -> dict:
    """Score the users in chunks of ``--chunk``; after each chunk the results file is rewritten with the users
    done so far (``users_completed``), so a run stopped early leaves a valid file over a prefix of the users."""
    started, load_average = time.perf_counter(), os.getloadavg()[0]
    data = load_dataset(args.dataset)
    split = leave_one_out(data.interactions)
    protocol = candidate_protocol(split, args.users, args.candidates, args.history, seed=args.seed)
    per_user: dict[str, np.ndarray] = {}
    scores, fitted = baseline_candidate_scores(split, protocol, BASELINES, seed=args.seed)
    for name, values in scores.items():
        per_user[name] = candidate_ndcg(values, 0, args.k)
    lm = load_causal_lm(args.llm)
    random = candidate_ndcg(np.zeros((1, args.candidates)), 0, args.k)[0]
    llm_seconds = 0.0
    for name in [f"llm_{style}" for style in args.styles]:
        per_user[name] = np.full(args.users, np.nan)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True)
    record: dict = {}
    for start in range(0, args.users, args.chunk):
        stop = min(start + args.chunk, args.users)
        rows = slice(start, stop)
        chunk_started = time.perf_counter()
        for style in args.styles:
            values = zero_shot_scores(
                lm.model,
                lm.tokenizer,
                protocol.histories[rows],
                protocol.titles[rows],
                protocol.orders[rows],
                style=style,
                progress=True,
                desc=f"{style} users {start}-{stop}",
            )
            per_user[f"llm_{style}"][rows] = candidate_ndcg(values, 0, args.k)
        llm_seconds += time.perf_counter() - chunk_started
        results, paired = summarise(args, per_user, stop)
        record = {
            "run": f"zeroshot-{args.dataset}",
            "protocol": {
                "dataset": args.dataset,
                "split": "leave-one-out, test stage",
                "users_planned": args.users,
                "candidates": args.candidates,
                "history_length": args.history,
                "k": args.k,
                "metric": f"NDCG@{args.k} of the test item among the candidates (sampled, not full ranking)",
                "random_ndcg10": float(random),
                "styles": args.styles,
                "llm": args.llm,
                "llm_parameters": lm.n_parameters,
                "baselines": BASELINES,
            },
            "users_completed": stop,
            "results": results,
            "paired": paired,
            "per_user_ndcg10": {name: v[:stop].round(6).tolist() for name, v in per_user.items()},
            "users": protocol.users[:stop].tolist(),
            "seconds_per_user": {"llm_all_styles": llm_seconds / stop},
            "baseline_fit_seconds": {name: fit.fit_seconds for name, fit in fitted.items()},
            "seconds": time.perf_counter() - started,
            "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "load_average_now": os.getloadavg()[0],
            "command": " ".join(["python", *sys.argv]),
            "git_commit": commit,
            "git_dirty": bool(dirty.stdout.strip()),
            "seed": args.seed,
            "machine": machine(load_average),
        }
        path.write_text(json.dumps(record, indent=1) + "\n")
        line = ", ".join(f"{n} {r['mean']:.4f}" for n, r in results.items())
        print(f"{stop} users: {line} ({llm_seconds / stop:.1f} s per user)", flush=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--history", type=int, default=10)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--styles", nargs="+", default=["sequential"])
    parser.add_argument("--llm", default="smollm2-135m-instruct")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the book's machines have 2 cores)")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--chunk", type=int, default=10, help="users between two writes of the results file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = result_file(args.dataset, args.seed, Path(args.out))
    path.parent.mkdir(parents=True, exist_ok=True)
    record = run(args, path)
    for name, summary in record["results"].items():
        print(f"{name}: NDCG@{args.k} {summary['mean']:.4f} [{summary['low']:.4f}, {summary['high']:.4f}]")
    print(f"{record['seconds'] / 60:.1f} min -> {path}")


if __name__ == "__main__":
    main()
