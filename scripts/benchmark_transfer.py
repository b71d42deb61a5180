"""Chapter 8's heavier runs, one results file per run in ``benchmarks/results/transfer_<run>_<seed>.json``.

    make benchmark-transfer
    .venv/bin/python scripts/benchmark_transfer.py --runs pull-sweep emcdr-mlp lightgcn-joint lightgcn-long

Runs (same protocols as notebook 08):

* ``pull-sweep``: ML-1M -> ML-100K, the L2-pull weight ``w`` in {0, 1, 10, 100, 1e9} at 10/25/100 % of the target
  data (is there any weight at which transfer helps?);
* ``emcdr-mlp``: EMCDR with the one-hidden-layer perceptron map on ML-1M's genre domains, cold-in-target users;
* ``lightgcn-joint``: LightGCN on the joint graph of both genre domains (the BiTGCF idea) for the same users;
* ``lightgcn-long``: LightGCN on the book protocol (ML-100K, leave-one-out) trained longer than the notebook does;
* ``sasrec-seeds``: SASRec pretrained on ML-1M and fine-tuned on ML-100K against SASRec trained on ML-100K alone,
  with the notebook's settings, for three training seeds (``--seed``, 2024, 7), at 10 and 25 % of each user's
  training events kept, the latest ones (the notebook's protocol) and the earliest ones (the MF protocol).

Each file holds the metrics (NDCG@10 and HR@10 with a bootstrap interval over users), fit seconds, peak memory,
command line, git commit, seed, and the machine (cores, torch version, threads).
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

from llmrec import evaluate, leave_one_out, load_dataset, make_model
from llmrec.models import EMCDR, LeastSquaresMF, LightGCN, MostPopular
from llmrec.split import domain_split, genre_domains, hide_history, shrink_split
from llmrec.transfer import bootstrap_interval, item_map, match_titles, paired_comparison, sequential_transfer

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
#: the sequence model of notebook 08 (chapter 7's SASRec settings) as this run used them
SEQ_OPTIONS = dict(
    embedding_size=64,
    max_len=50,
    batch_size=64,
    learning_rate=3e-3,
    dropout=0.3,
    reg=1e-5,
    num_heads=2,
    patience=5,
    init_std=0.02,
)
SEQ_EPOCHS, SEQ_PRETRAIN_EPOCHS = 40, 10  # the notebook now pretrains 8 epochs without early stopping
TARGET_GENRES = ["Action", "Adventure", "Sci-Fi", "Thriller", "War", "Horror", "Western", "Fantasy"]


def metrics(result, seed: int) -> dict:
    values = result.per_user["NDCG@10"].to_numpy()
    low, high = bootstrap_interval(values, 1000, seed=seed)
    return {
        "NDCG@10": float(values.mean()),
        "NDCG@10_low": low,
        "NDCG@10_high": high,
        "HR@10": float(result.per_user["HR@10"].mean()),
        "users": len(values),
    }


def genre_cold_split(seed: int):
    big = load_dataset("ml-1m").interactions
    source, target, _, _ = domain_split(big, genre_domains(big.items, TARGET_GENRES))
    eligible = (source.user_counts() >= 5) & (target.user_counts() >= 5)
    cold = np.sort(
        np.random.default_rng(seed).choice(np.flatnonzero(eligible), size=int(0.2 * eligible.sum()), replace=False)
    )
    return source, hide_history(target, cold)


def sasrec_seeds(first_seed: int) -> dict:
    """Per seed, protocol and share: target-only SASRec, SASRec from ML-1M (fine-tuned, and used as it is), the
    relative gain of the fine-tuned transfer over target-only with its bootstrap interval and Wilcoxon p."""
    small, big = load_dataset("ml-100k").interactions, load_dataset("ml-1m").interactions
    pairs, _ = match_titles(small.items, big.items)
    films = item_map(pairs, small.n_items)
    split = leave_one_out(small)
    out: dict = {}
    for seed in (first_seed, 2024, 7):
        options = SEQ_OPTIONS | {"seed": seed}
        source = make_model("sasrec", **options, epochs=SEQ_PRETRAIN_EPOCHS).fit(big)
        for latest in (True, False):
            for fraction in (0.1, 0.25):
                shrunk = shrink_split(split, fraction=fraction, latest=latest)
                fits = sequential_transfer(source, shrunk, films, options | {"epochs": SEQ_EPOCHS})
                alone, moved = fits.alone, fits.started
                c = paired_comparison(moved.per_user["NDCG@10"], alone.per_user["NDCG@10"], 1000, seed=seed)
                key = f"seed {seed}, {'last' if latest else 'first'} {fraction:.0%}"
                out[f"{key}, target only"] = metrics(alone, seed)
                out[f"{key}, ML-1M start"] = metrics(moved, seed) | {
                    "relative": c.relative,
                    "relative_low": c.relative_low,
                    "relative_high": c.relative_high,
                    "wilcoxon_p": c.wilcoxon_pvalue,
                }
                out[f"{key}, ML-1M as is"] = metrics(fits.as_is, seed)
                print(key, {k: round(v, 4) for k, v in out[f"{key}, ML-1M start"].items()}, flush=True)
    return out


def run(name: str, seed: int, epochs: int) -> dict:
    started = time.perf_counter()
    # the code that runs: taken at the start (a commit made while a long run goes on is not its code)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out: dict = {}
    if name == "pull-sweep":
        small, big = load_dataset("ml-100k").interactions, load_dataset("ml-1m").interactions
        pairs, _ = match_titles(small.items, big.items)
        source = LeastSquaresMF(seed=seed).fit(big)
        prior = np.full((small.n_items, 64), np.nan)
        prior[pairs["target_item"]] = source.item_factors_[pairs["source_item"]]
        split = leave_one_out(small)
        for fraction in (0.1, 0.25, 1.0):
            shrunk = shrink_split(split, fraction=fraction)
            fit = shrunk.fit_data("test")
            out[f"{fraction:.0%} popularity"] = metrics(evaluate(MostPopular().fit(fit), shrunk), seed)
            for weight in (0.0, 1.0, 10.0, 100.0, 1e9):
                model = LeastSquaresMF(seed=seed, item_prior=prior, prior_weight=weight)
                out[f"{fraction:.0%} w={weight:g}"] = metrics(evaluate(model.fit(fit), shrunk), seed)
    elif name in ("emcdr-mlp", "lightgcn-joint"):
        source, split = genre_cold_split(seed)
        if name == "emcdr-mlp":
            model = EMCDR(source=source, mapping="mlp", mapping_reg=0.0, seed=seed)
        else:
            model = LightGCN(
                epochs=epochs, batch_size=8192, learning_rate=0.02, source=source, seed=seed, progress=True
            )
        out[name] = metrics(evaluate(model.fit(split.train), split), seed)
    elif name == "lightgcn-long":
        split = leave_one_out(load_dataset("ml-100k").interactions)
        model = LightGCN(epochs=epochs, batch_size=2048, learning_rate=0.01, seed=seed, progress=True)
        out[name] = metrics(evaluate(model.fit(split.fit_data("test")), split), seed)
        out[name]["loss"] = model.losses_
    elif name == "sasrec-seeds":
        out = sasrec_seeds(seed)
    else:
        raise ValueError(f"unknown run {name!r}")
    return {
        "run": name,
        "results": out,
        "seconds": time.perf_counter() - started,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "git_commit": commit,
        "seed": seed,
        "epochs": epochs,
        "machine": {
            "cores": os.cpu_count(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "platform": platform.platform(),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", nargs="+", default=["pull-sweep", "emcdr-mlp", "lightgcn-joint", "lightgcn-long", "sasrec-seeds"]
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the book's machines have 2 cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in args.runs:
        record = run(name, args.seed, args.epochs)
        path = RESULTS / f"transfer_{name}_{args.seed}.json"
        path.write_text(json.dumps(record, indent=2) + "\n")
        print(f"{name}: {record['seconds']:.0f} s -> {path.relative_to(ROOT)}")
        for key, value in record["results"].items():
            print(f"  {key}: NDCG@10 {value['NDCG@10']:.4f} [{value['NDCG@10_low']:.4f}, {value['NDCG@10_high']:.4f}]")


if __name__ == "__main__":
    main()
