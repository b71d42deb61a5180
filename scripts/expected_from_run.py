"""Write or extend ``tests/expected/<notebook>.json`` from an executed notebook, with tolerances chosen by the
author per key pattern (nothing is loosened automatically: existing entries are kept and checked).

    python scripts/expected_from_run.py _build/executed/notebooks/02_ngram.ipynb \
        --rule 'ngram_nltk_maxdiff_*=atol:1e-9' --rule '*_ppl_*=rtol:1e-5' --default atol:1e-6

Integers get exact entries. Existing keys whose recorded value is outside their tolerance are reported and the
script exits 1. On a CPU kind with its own ``tests/expected/cpu/<kind>/`` file the existing keys are checked
against the merged values (``llmrec.book.expected_values``); new keys always go to the base file.

    python scripts/expected_from_run.py _build/executed/notebooks/07_sequential_interest.ipynb --this-cpu

writes ``tests/expected/cpu/<kind>/07_sequential_interest.json`` instead (``kind`` is
``llmrec.benchmark.cpu_kind()`` of this machine, which must be the one that executed the notebook): the recorded
values outside the base file's tolerance, each with the base entry's tolerance. It refuses keys the base file lacks,
and an existing per-CPU file the run disagrees with.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from pathlib import Path

from llmrec.benchmark import cpu_kind
from llmrec.book import compare_records, expected_values, read_records

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected"


def write_cpu_file(records: dict, stem: str) -> int:
    """The values of this CPU kind that differ from ``tests/expected/<stem>.json`` -> its per-CPU file."""
    kind = cpu_kind()
    if kind == "unknown":
        print("this machine's CPU kind is unknown (no vendor, family or model in /proc/cpuinfo)")
        return 1
    base = json.loads((EXPECTED / f"{stem}.json").read_text())
    merged, files = expected_values(EXPECTED, stem, kind)
    problems = compare_records(records, merged)
    if len(files) == 1:  # no file for this kind yet: the values that differ are what it will hold
        problems = [p for p in problems if ": got " not in p]
    if problems:
        print("\n".join(problems))
        return 1
    outside = [key for key in base if compare_records({key: records[key]}, {key: base[key]})]
    different = {key: {**base[key], "value": records[key]} for key in outside}
    target = EXPECTED / "cpu" / kind / f"{stem}.json"
    if not different:
        target.unlink(missing_ok=True)
        print(f"every value within the base file's tolerance on {kind}: no {target}")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(different, indent=1) + "\n")
    print(f"wrote {target} ({len(different)} of {len(base)} keys differ on {kind})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("executed")
    parser.add_argument("--rule", action="append", default=[], help="PATTERN=atol:X or PATTERN=rtol:X")
    parser.add_argument("--default", default="atol:1e-6")
    parser.add_argument("--this-cpu", action="store_true", help="write this CPU kind's file of differing values")
    args = parser.parse_args()
    records = read_records(args.executed)
    stem = Path(args.executed).stem
    if args.this_cpu:
        return write_cpu_file(records, stem)
    target = EXPECTED / f"{stem}.json"
    expected = json.loads(target.read_text()) if target.is_file() else {}
    checked = expected_values(EXPECTED, stem, cpu_kind())[0] if target.is_file() else {}
    problems = [p for p in compare_records(records, checked) if "no expected value" not in p]
    if problems:
        print("\n".join(problems))
        return 1
    rules = [(r.split("=", 1)[0], r.split("=", 1)[1]) for r in args.rule]
    for key, value in records.items():
        if key in expected:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            expected[key] = {"value": value}
            continue
        kind, amount = next((t for p, t in rules if fnmatch.fnmatch(key, p)), args.default).split(":")
        expected[key] = {"value": value, kind: float(amount)}
    target.write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {target} ({len(expected)} keys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
