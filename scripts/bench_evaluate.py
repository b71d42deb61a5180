"""Time the full-ranking evaluator: all 6,040 ML-1M users over 3,706 items at K=10 (target <= 2 s).

    make bench     # or: .venv/bin/python scripts/bench_evaluate.py --repeats 7

Scores come from a fitted most-popular model, so the time is the evaluator's (masking, sorting, metrics).
Prints every run and the median.
"""

from __future__ import annotations

import argparse
import statistics
import time

from llmrec import evaluate, leave_one_out, load_dataset, make_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    data = load_dataset(args.dataset)
    split = leave_one_out(data.interactions)
    model = make_model("pop").fit(split.fit_data("test"))
    evaluate(model, split, k=args.k)  # warm-up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = evaluate(model, split, k=args.k)
        times.append(time.perf_counter() - start)
    print(f"{args.dataset}: {len(result.per_user)} users x {data.n_items} items, K={args.k}")
    print("runs (s):", " ".join(f"{t:.3f}" for t in times))
    print(f"median: {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
