"""RecBole's side of ``make compare-recbole``; runs inside ``.venv-recbole`` (RecBole 1.2.1), never imports llmrec.

    .venv-recbole/bin/python scripts/recbole_side.py --data-dir WORK --out WORK/recbole.json

Reads the atomic file ``WORK/ml-100k/ml-100k.inter`` (written by ``scripts/compare_recbole.py`` from the book's
verified MovieLens-100K, in file order), runs RecBole's Pop, ItemKNN, BPR and SASRec with RecBole's own
leave-one-out split (``LS: valid_and_test``, time order, full ranking), and writes their test metrics, fit seconds
and the split itself (raw user and item ids of each part) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

MODEL_CONFIG = {
    "Pop": {},
    "ItemKNN": {"k": 50, "shrink": 0.0},  # the book's item-kNN keeps 50 neighbours, cosine without shrinkage
    "BPR": {"embedding_size": 64, "learning_rate": 5e-3, "train_batch_size": 1024},
    "SASRec": {
        "train_neg_sample_args": None,
        "loss_type": "CE",
        "MAX_ITEM_LIST_LENGTH": 50,
        "hidden_size": 64,
        "inner_size": 256,
        "n_layers": 2,
        "n_heads": 2,
        "train_batch_size": 256,
    },
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--models", default="Pop,ItemKNN,BPR,SASRec")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    # RecBole 1.2.1 reloads its own best checkpoint with torch.load's pre-2.6 default (full unpickling); the file is
    # the one this run just wrote
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    import recbole
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    torch.set_num_threads(1)
    work = Path(args.data_dir)
    base = {
        "data_path": str(work),
        "checkpoint_dir": str(work / "saved"),
        "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]},
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "group_by": "user", "mode": "full"},
        "metrics": ["Hit", "NDCG", "MRR", "Recall"],
        "topk": [10],
        "valid_metric": "NDCG@10",
        "metric_decimal_place": 6,
        "seed": args.seed,
        "reproducibility": True,
        "epochs": args.epochs,
        "stopping_step": 5,
        "device": "cpu",
        "use_gpu": False,
        "show_progress": False,
        "state": "WARNING",
    }
    out: dict = {"recbole_version": recbole.__version__, "torch_version": torch.__version__, "models": {}}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        config = Config(model=name, dataset="ml-100k", config_dict={**base, **MODEL_CONFIG.get(name, {})})
        init_seed(config["seed"], config["reproducibility"])
        dataset = create_dataset(config)
        train, valid, test = data_preparation(config, dataset)
        if "split" not in out:
            parts = {}
            for part, loader in (("train", train), ("validation", valid), ("test", test)):
                feat = loader.dataset.inter_feat
                parts[part] = {
                    "user": [str(t) for t in dataset.id2token("user_id", feat["user_id"].numpy())],
                    "item": [str(t) for t in dataset.id2token("item_id", feat["item_id"].numpy())],
                }
            out["split"] = parts
        init_seed(config["seed"], config["reproducibility"])
        model = get_model(config["model"])(config, train.dataset).to(config["device"])
        trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
        start = time.perf_counter()
        trainer.fit(train, valid, saved=True, show_progress=False)
        seconds = time.perf_counter() - start
        result = trainer.evaluate(test, load_best_model=True, show_progress=False)
        out["models"][name] = {
            "metrics": {key: float(value) for key, value in result.items()},
            "fit_seconds": seconds,
            "config": {key: config[key] for key in MODEL_CONFIG.get(name, {})},
            "epochs_max": args.epochs,
        }
        print(name, out["models"][name]["metrics"], f"{seconds:.1f} s", flush=True)
    Path(args.out).write_text(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
