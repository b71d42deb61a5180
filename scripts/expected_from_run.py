"""Write or extend ``tests/expected/<notebook>.json`` from an executed notebook, with tolerances chosen by the
author per key pattern (nothing is loosened automatically: existing entries are kept and checked).

    python scripts/expected_from_run.py _build/executed/notebooks/02_ngram.ipynb \
        --rule 'ngram_nltk_maxdiff_*=atol:1e-9' --rule '*_ppl_*=rtol:1e-5' --default atol:1e-6

Integers get exact entries. Existing keys whose recorded value is outside their tolerance are reported and the
script exits 1.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from pathlib import Path

from llmrec.book import compare_records, read_records

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("executed")
    parser.add_argument("--rule", action="append", default=[], help="PATTERN=atol:X or PATTERN=rtol:X")
    parser.add_argument("--default", default="atol:1e-6")
    args = parser.parse_args()
    records = read_records(args.executed)
    target = ROOT / "tests" / "expected" / f"{Path(args.executed).stem}.json"
    expected = json.loads(target.read_text()) if target.is_file() else {}
    problems = [p for p in compare_records(records, expected) if "no expected value" not in p]
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
