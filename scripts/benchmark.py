"""Train chapter 7's sequence models on a dataset and write one results file per run.

    make benchmark      # or: .venv/bin/python scripts/benchmark.py --dataset ml-1m --models sasrec sasrec-text gru4rec
    .venv/bin/python scripts/benchmark.py --models sasrec sasrec-text --seeds 42 2024 7 --recipe plus-3000-groups

Without ``--recipe`` and ``--tag`` each model runs ``make benchmark``'s recipe and its files carry that recipe's
tag (``llmrec.benchmark.BENCHMARK_TAGS``). ``--params`` changing a named recipe needs a ``--tag`` naming the
variant (and no ``--recipe``), so that its files do not pass for the recipe's.

Each run: leave-one-out split, fit on train + validation with early stopping on NDCG@10 of each user's last
training event (the validation item), full-ranking evaluation on the test items with seen items masked, then
``benchmarks/results/<model>[-<tag>]-<dataset>-seed<seed>.json`` (metrics, per-epoch seconds and loss, validation curve,
total seconds, peak memory, git commit, command, seed, machine). See :mod:`llmrec.benchmark`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from llmrec.benchmark import (
    BENCHMARK_MODELS,
    BENCHMARK_TAGS,
    SASREC_RECIPES,
    code_version,
    recipe_params,
    result_path,
    run_benchmark,
)

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--models", nargs="+", default=list(BENCHMARK_MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--params", default="{}", help='JSON overrides per model, e.g. \'{"sasrec": {"epochs": 3}}\'')
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the book's machines have 2 cores)")
    parser.add_argument(
        "--tag",
        help="names a variant of the recipe: <model>-<tag>-<dataset>-seed<seed>.json (default: make benchmark's tag)",
    )
    parser.add_argument(
        "--recipe",
        choices=sorted(SASREC_RECIPES),
        help="a named SASRec recipe (llmrec.benchmark.SASREC_RECIPES) for sasrec and sasrec-text, also the tag",
    )
    parser.add_argument("--skip-existing", action="store_true", help="do not re-run a model whose file exists")
    args = parser.parse_args()
    if args.recipe:
        if args.tag and args.tag != args.recipe:
            raise SystemExit(f"--recipe {args.recipe} writes files tagged {args.recipe}; drop --tag {args.tag}")
        args.tag = args.recipe
        try:  # every model has the recipe, checked before the first (long) run starts
            recipes = {model: recipe_params(model, args.recipe) for model in args.models}
        except ValueError as error:
            raise SystemExit(f"--recipe: {error}") from None
    code = code_version()  # the code this process imports now, whatever is committed while it runs
    torch.set_num_threads(args.threads)
    overrides = json.loads(args.params)
    unknown = sorted(set(overrides) - set(args.models))
    if unknown:
        raise SystemExit(f"--params names models that are not run: {unknown}")
    tags = {model: args.tag if args.tag is not None else BENCHMARK_TAGS.get(model, "") for model in args.models}
    named = args.recipe is not None or args.tag is None  # the files would carry a named recipe's tag
    changed = sorted(model for model in overrides if named and tags[model])
    if changed:
        raise SystemExit(
            f"--params changes the recipe of {changed} whose tag the files would carry: "
            "name the variant with --tag (without --recipe)"
        )
    for seed in args.seeds:
        for model in args.models:
            if args.skip_existing and result_path(args.out, model, args.dataset, seed, tags[model]).exists():
                print(f"{model} seed {seed}: results file exists, skipped")
                continue
            base = recipes[model] if args.recipe else BENCHMARK_MODELS.get(model, {})
            params = {**base, **overrides.get(model, {})}
            record = run_benchmark(model, args.dataset, seed, params, folder=args.out, tag=tags[model], code=code)
            path = result_path(args.out, model, args.dataset, seed, tags[model])
            metrics = record["metrics"]
            print(
                f"{model} {args.dataset} seed {seed}: NDCG@10 {metrics['NDCG@10']:.4f} HR@10 {metrics['HR@10']:.4f} "
                f"epochs {record['epochs']} (best {record['best_epoch']}), fit {record['fit_seconds'] / 60:.1f} min, "
                f"peak {record['peak_memory_mb']:.0f} MB -> {path}",
                flush=True,
            )


if __name__ == "__main__":
    main()
