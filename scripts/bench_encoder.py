"""Time the text encoder: items per second for several batch sizes, and a cached re-run.

    make bench-encoder    # or: .venv/bin/python scripts/bench_encoder.py --batch-sizes 16 32 64 128 --repeats 3

Encodes every item text of the dataset (``"{title} ({year}). Genres: {genres}."``) with the cache off, once per
repeat and batch size, then once with a fresh cache (cold) and again (a cache hit). Prints every run and the
medians. Uses all the threads torch is given (``torch.get_num_threads()``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from llmrec import load_dataset
from llmrec.text import TextEncoder, item_texts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--model", default=None, help="Hugging Face id or local folder (default: all-MiniLM-L6-v2)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = item_texts(load_dataset(args.dataset).items)
    print(f"{args.dataset}: {len(texts)} item texts, torch threads {torch.get_num_threads()}")
    TextEncoder(args.model, cache=False).load().encode(texts[:64], desc="warm-up")
    for batch_size in args.batch_sizes:
        encoder = TextEncoder(args.model, batch_size=batch_size, cache=False).load()
        rates = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            encoder.encode(texts)
            rates.append(len(texts) / (time.perf_counter() - start))
        runs = " ".join(f"{rate:.0f}" for rate in rates)
        print(f"batch {batch_size:4d}: items/s {runs}  median {statistics.median(rates):.0f}")
    with tempfile.TemporaryDirectory() as folder:
        encoder = TextEncoder(args.model, cache_folder=folder).load()
        start = time.perf_counter()
        encoder.encode(texts)
        cold = time.perf_counter() - start
        hits = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            encoder.encode(texts)
            hits.append(time.perf_counter() - start)
    print(
        f"cache: first run {cold:.2f} s (encodes and writes); re-runs (ms) "
        + " ".join(f"{1000 * hit:.1f}" for hit in hits)
        + f"  median {1000 * statistics.median(hits):.1f} ms"
    )


if __name__ == "__main__":
    main()
