"""How a published ``user item`` copy of MovieLens-1M (SASRec's ``data/ml-1m.txt``) was made from MovieLens-1M.

    .venv/bin/python scripts/check_sasrec_data.py --file ml-1m.txt --users 4

Writes ``benchmarks/results/sasrec_data_ml-1m.json`` (chapter 7, section 3.7 shows it):

* the filter: MovieLens-1M keeping films rated at least ``--min-item-count`` times (:func:`llmrec.split.k_core`;
  every ML-1M user keeps far more than that), its user, film and rating counts, and how many of the book's
  leave-one-out test and validation targets are films the filter removes;
* the order of equal timestamps: the first ``--users`` users of the file are matched to MovieLens users by their
  lengths and pairwise overlaps (:func:`llmrec.data.match_users`), and each tie rule of the book is replayed on
  them (:func:`llmrec.data.tie_rule_agreement`);
* the file's own counts when it is read whole (``--users 0``).

The file is not shipped (it is not on a package registry); any copy of it, or its first lines, can be checked.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from llmrec.benchmark import code_version
from llmrec.data import load_dataset, match_users, read_user_item_lines, tie_rule_agreement
from llmrec.split import LOO_TIE_RULES, k_core, leave_one_out

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", required=True, help="the 'user item' file (or its first lines)")
    parser.add_argument("--users", type=int, default=4, help="how many of its first users to match; 0 = all")
    parser.add_argument("--dataset", default="ml-1m")
    parser.add_argument("--min-item-count", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sasrec_data_ml-1m.json"))
    args = parser.parse_args()
    data = load_dataset(args.dataset).interactions
    filtered = k_core(data, args.min_item_count)
    kept_items = set(filtered.items["raw_id"]) if filtered.items is not None else set()
    raw_item = data.items["raw_id"].to_numpy()
    split = leave_one_out(data)
    removed_targets = {
        stage: int((~np.isin(raw_item[split.targets(stage).frame["item"].to_numpy()], list(kept_items))).sum())
        for stage in ("test", "validation")
    }
    reference = read_user_item_lines(args.file, max_users=args.users or None)
    matches = match_users(reference, data)
    agreement = {rule: tie_rule_agreement(reference, data, matches, rule) for rule in LOO_TIE_RULES}
    raw_user = data.users["raw_id"].to_numpy() if data.users is not None else np.arange(data.n_users)
    record = {
        "dataset": args.dataset,
        "reference_file": Path(args.file).name,
        "reference_bytes": Path(args.file).stat().st_size,
        "reference_users_read": len(reference),
        "reference_counts": (
            {
                "users": len(reference),
                "items": len({i for items in reference.values() for i in items}),
                "events": sum(len(items) for items in reference.values()),
            }
            if not args.users
            else None
        ),
        "min_item_count": args.min_item_count,
        "filtered_counts": {"users": filtered.n_users, "items": filtered.n_items, "events": len(filtered)},
        "full_counts": {"users": data.n_users, "items": data.n_items, "events": len(data)},
        "removed_targets": removed_targets,
        "matched_users": {str(k): str(raw_user[u]) for k, u in matches.items()},
        "reference_lengths": {str(k): len(v) for k, v in reference.items()},
        "tie_rule_agreement": {rule: {"agreeing": a, "compared": n} for rule, (a, n) in agreement.items()},
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "git_commit": code_version()[0],
        "git_dirty": code_version()[1],
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    for rule, (a, n) in agreement.items():
        print(f"{rule}: {a} of {n} positions agree")
    print(f"matched users {record['matched_users']}; filter: {record['filtered_counts']} -> {args.out}")


if __name__ == "__main__":
    main()
