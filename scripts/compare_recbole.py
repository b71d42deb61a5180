"""``make compare-recbole``: the book's models and RecBole 1.2.1's on exactly the same ML-100K split.

    python scripts/compare_recbole.py [--epochs 20]     # after the Makefile has set up .venv-recbole

1. Write the book's verified MovieLens-100K as a RecBole atomic file (raw ids, file order) under
   ``_build/recbole/ml-100k/``.
2. Run RecBole's Pop, ItemKNN, BPR and SASRec in their own virtual environment (``scripts/recbole_side.py``),
   with RecBole's leave-one-out split; it exports that split.
3. Rebuild the same split in llmrec and run the book's most-popular, item-kNN, BPR and chapter 7's SASRec on it,
   under two protocols: RecBole's (general models fitted on the training part only; SASRec's seen items
   not masked) and the book's (fitted on training + validation; seen items masked).
4. Write ``benchmarks/recbole_ml100k.json`` (metrics, seconds, command, commit, machine); the results page shows it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from llmrec import Split, evaluate, leave_one_out, load_dataset
from llmrec.evaluation import evaluate_scores
from llmrec.pipeline import build_model

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "_build" / "recbole"
RECBOLE_PY = ROOT / ".venv-recbole" / "bin" / "python"
OUT = ROOT / "benchmarks" / "recbole_ml100k.json"
BOOK_MODELS = {"pop": "Pop", "itemknn": "ItemKNN", "bpr": "BPR", "sasrec": "SASRec"}
#: chapter 7's SASRec on ML-100K (its notebook's parameters): early stopping on the last training event
BOOK_SASREC = {
    "max_len": 50,
    "dropout": 0.3,
    "num_heads": 2,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "reg": 1e-5,
    "epochs": 40,
    "patience": 5,
}


def write_atomic(data, folder: Path) -> None:
    """RecBole's ``.inter`` atomic file: tab-separated, typed header, raw MovieLens ids, the file's own order."""
    folder.mkdir(parents=True, exist_ok=True)
    f = data.interactions.frame
    table = pd.DataFrame(
        {
            "user_id:token": data.interactions.users["raw_id"].to_numpy()[f["user"].to_numpy()],
            "item_id:token": data.interactions.items["raw_id"].to_numpy()[f["item"].to_numpy()],
            "rating:float": f["rating"].to_numpy(),
            "timestamp:float": f["timestamp"].to_numpy(),
        }
    )
    table.to_csv(folder / "ml-100k.inter", sep="\t", index=False)


def recbole_split(data, exported: dict) -> Split:
    """The split RecBole made, as an llmrec :class:`Split` over the book's ids (a (user, item) pair is unique)."""
    users = {str(r): i for i, r in enumerate(data.interactions.users["raw_id"])}
    items = {str(r): i for i, r in enumerate(data.interactions.items["raw_id"])}
    f = data.interactions.frame
    position = pd.Series(np.arange(len(f)), index=pd.MultiIndex.from_arrays([f["user"], f["item"]]))
    part = np.full(len(f), -1)
    for code, name in enumerate(("train", "validation", "test")):
        u = [users[x] for x in exported[name]["user"]]
        i = [items[x] for x in exported[name]["item"]]
        part[position.loc[list(zip(u, i, strict=True))].to_numpy()] = code
    if (part < 0).any():
        raise ValueError(f"{int((part < 0).sum())} events are in no part of RecBole's split")
    inter = data.interactions
    return Split(*(inter.with_frame(f[part == c]) for c in range(3)), name="recbole-leave-one-out")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--epochs",
        type=int,
        default=20,
        help="most epochs of RecBole's BPR and SASRec (early stopping after 5 without gain) and of the book's BPR",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--models",
        default="Pop,ItemKNN,BPR,SASRec",
        help="RecBole models to run (SASRec is slow on a shared CPU: minutes per epoch)",
    )
    args = parser.parse_args()
    run_models = [m.strip() for m in args.models.split(",") if m.strip()]
    torch.set_num_threads(1)
    data = load_dataset("ml-100k")
    write_atomic(data, WORK / "ml-100k")
    recbole_json = WORK / "recbole.json"
    command = [str(RECBOLE_PY), str(ROOT / "scripts" / "recbole_side.py"), "--data-dir", str(WORK)]
    command += ["--out", str(recbole_json), "--epochs", str(args.epochs), "--seed", str(args.seed)]
    command += ["--models", ",".join(run_models)]
    subprocess.run(command, check=True, cwd=WORK)  # RecBole writes log/ and log_tensorboard/ into its cwd
    recbole = json.loads(recbole_json.read_text())

    split = recbole_split(data, recbole["split"])
    ours = leave_one_out(data.interactions)
    same_test = ours.test.frame[["user", "item"]].merge(split.test.frame[["user", "item"]]).shape[0]
    rows = []
    for name, rb_name in BOOK_MODELS.items():
        if rb_name not in run_models:
            continue
        params = {"epochs": args.epochs} if name == "bpr" else {}
        if name == "itemknn":
            params = {"neighbours": 50}
        if name == "sasrec":
            params = dict(BOOK_SASREC)
        for protocol, stage in (("RecBole: fit on train", "validation"), ("book: fit on train + validation", "test")):
            if name == "sasrec" and stage == "validation":
                continue  # RecBole's SASRec reads the validation item as context at test time: compare with the refit
            start = time.perf_counter()
            model = build_model(name, params, args.seed).fit(split.fit_data(stage))
            seconds = time.perf_counter() - start
            masked = evaluate_scores(model.score, split.fit_data("test").matrix(), split.test.matrix(), k=10)
            row = {"model": name, "recbole_model": rb_name, "protocol": protocol, "fit_seconds": seconds}
            row.update({m: v for m, v in masked.summary().items() if m in ("NDCG@10", "HR@10", "MRR@10")})
            rows.append(row)
            if name == "sasrec":
                empty = sp.csr_matrix(split.test.matrix().shape)
                unmasked = evaluate_scores(model.score, empty, split.test.matrix(), k=10).summary()
                rows.append(
                    {
                        **row,
                        "protocol": "book refit, seen items not masked (as RecBole's SASRec)",
                        **{f"{m}@10": unmasked[f"{m}@10"] for m in ("NDCG", "HR", "MRR")},
                    }
                )
    book_default = {
        m: evaluate(build_model(m, {}, args.seed).fit(ours.fit_data("test")), ours).summary()["NDCG@10"]
        for m in ("pop", "itemknn")
    }
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    result = {
        "command": "make compare-recbole",
        "arguments": {"epochs": args.epochs, "seed": args.seed, "models": run_models},
        "git_commit": commit,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "torch": torch.__version__,
            "python": sys.version.split()[0],
        },
        "recbole": {k: v for k, v in recbole.items() if k != "split"},
        "split": {
            "events": {p: len(recbole["split"][p]["user"]) for p in ("train", "validation", "test")},
            "test_events_same_as_book_split": same_test,
        },
        "book": rows,
        "book_split_ndcg10": book_default,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(pd.DataFrame(rows).round(4).to_string(index=False))
    print({name: {k: round(v, 4) for k, v in m["metrics"].items()} for name, m in recbole["models"].items()})
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
