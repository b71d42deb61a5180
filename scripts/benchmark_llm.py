"""Chapter 10's larger run: LLMRank zero-shot ranking with SmolLM2 for many users, one results file per run.

    make benchmark-llm
    .venv/bin/python scripts/benchmark_llm.py --dataset ml-100k --users 200 --styles sequential recency

The protocol is the notebook's (``llmrec.llm.candidate_protocol``: leave-one-out, test stage, 20 candidates = the
test item and 19 unseen items drawn uniformly, the 10 most recent training titles in the prompt, seed 42; the
notebook's users are the first users of the same seeded permutation). Candidates are scored by the LLM's mean
log-likelihood of each title (``llmrec.llm.zero_shot_scores``) and by popularity and BPR fitted through
``llmrec.pipeline.fit_evaluate`` with chapter 5's parameters. The file
``benchmarks/results/llm_zeroshot-<dataset>-<users>u_<seed>.json`` holds, per model, NDCG@10 among the
candidates with a bootstrap 95 % interval over users, the per-user values, paired differences with popularity and
BPR (bootstrap interval, paired t-test and Wilcoxon p-values), seconds per user, total seconds, peak memory,
command line, git commit, seed and the machine (cores, threads, torch version, load average at the start).
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


def result_file(dataset: str, users: int, seed: int, folder: Path = RESULTS) -> Path:
    return folder / f"llm_zeroshot-{dataset}-{users}u_{seed}.json"


def run(args: argparse.Namespace) -> dict:
    started, load_average = time.perf_counter(), os.getloadavg()[0]
    data = load_dataset(args.dataset)
    split = leave_one_out(data.interactions)
    protocol = candidate_protocol(split, args.users, args.candidates, args.history, seed=args.seed)
    per_user, seconds_per_user = {}, {}
    scores, fit_seconds = baseline_candidate_scores(split, protocol, BASELINES, seed=args.seed)
    for name, values in scores.items():
        per_user[name] = candidate_ndcg(values, 0, args.k)
    lm = load_causal_lm(args.llm)
    for style in args.styles:
        start = time.perf_counter()
        values = zero_shot_scores(
            lm.model,
            lm.tokenizer,
            protocol.histories,
            protocol.titles,
            protocol.orders,
            style=style,
            progress=True,
            desc=style,
        )
        seconds_per_user[f"llm_{style}"] = (time.perf_counter() - start) / args.users
        per_user[f"llm_{style}"] = candidate_ndcg(values, 0, args.k)
        print(f"{style}: NDCG@10 {per_user[f'llm_{style}'].mean():.4f}", flush=True)
    results = {name: paired_summary(values, seed=args.seed) for name, values in per_user.items()}
    random = candidate_ndcg(np.zeros((1, args.candidates)), 0, args.k)[0]
    paired = {
        f"{name}_minus_{base}": paired_summary(per_user[name], per_user[base], seed=args.seed)
        for name in per_user
        if name.startswith("llm_")
        for base in BASELINES
    }
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True)
    return {
        "run": f"zeroshot-{args.dataset}-{args.users}u",
        "protocol": {
            "dataset": args.dataset,
            "split": "leave-one-out, test stage",
            "users": args.users,
            "candidates": args.candidates,
            "history_length": args.history,
            "k": args.k,
            "metric": f"NDCG@{args.k} of the test item among the candidates (sampled, not full ranking)",
            "random_ndcg10": float(random),
            "llm": args.llm,
            "llm_parameters": lm.n_parameters,
            "baselines": BASELINES,
        },
        "results": results,
        "paired": paired,
        "per_user_ndcg10": {name: values.round(6).tolist() for name, values in per_user.items()},
        "users": protocol.users.tolist(),
        "seconds_per_user": seconds_per_user,
        "baseline_fit_seconds": fit_seconds,
        "seconds": time.perf_counter() - started,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "command": " ".join(["python", *sys.argv]),
        "git_commit": commit,
        "git_dirty": bool(dirty.stdout.strip()),
        "seed": args.seed,
        "machine": {
            "cores": os.cpu_count(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "platform": platform.platform(),
            "load_average_at_start": load_average,
        },
    }


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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    record = run(args)
    path = result_file(args.dataset, args.users, args.seed, Path(args.out))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    for name, summary in record["results"].items():
        print(f"{name}: NDCG@{args.k} {summary['mean']:.4f} [{summary['low']:.4f}, {summary['high']:.4f}]")
    print(f"{record['seconds'] / 60:.1f} min -> {path}")


if __name__ == "__main__":
    main()
