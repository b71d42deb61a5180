"""TALLRec-style instruction tuning for recommendation (chapter: *Generative LLMs*).

A yes/no question built from ratings (Bao et al., *TALLRec*, RecSys 2023): the user's recent films split into
liked (rating >= 4) and disliked, then "will the user like {target}?". The model's answer is read from the
logits ``z`` of its next token after the opened assistant turn,

    s = z_yes - z_no,        p(yes) = sigmoid(s)      (the two-way softmax over the tokens "Yes" and "No"),

and fine-tuning minimises the binary cross-entropy of ``p(yes)`` against the label, with LoRA adapters (Hu et
al., 2021) on the attention projections through the ``peft`` library, or with only the last layers unfrozen
(``method="last_layers"``). Everything else stays frozen, so a few hundred examples on a CPU are enough to move
the model and too few to overwrite it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._interactions import Interactions
from .._seed import numpy_rng, torch_generator
from ..text._templates import item_labels
from ..training import Trainer, TrainingHistory
from ._prompts import chat_prompt

__all__ = [
    "FineTuneHistory",
    "causal_lm_loss",
    "answer_ids",
    "finetune_yes_no",
    "preference_examples",
    "preference_prompt",
    "yes_no_scores",
]

LIKED = 4.0


def preference_prompt(liked: Sequence[str], disliked: Sequence[str], target: str) -> str:
    """The TALLRec question for one user and one target title."""
    return (
        f"The user liked these movies: {', '.join(liked) if liked else 'none'}.\n"
        f"The user disliked these movies: {', '.join(disliked) if disliked else 'none'}.\n"
        f'Will the user like the movie "{target}"? Answer Yes or No.'
    )


def preference_examples(
    data: Interactions, users: Sequence[int], history_length: int = 10, per_user: int = 1, seed: int = 42
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """``(questions, labels, users, items)``: for each user, ``per_user`` random positions ``t`` of their
    chronological ratings (with at least 3 earlier ratings), the question built from the ``history_length``
    ratings before ``t`` and the label ``rating_t >= 4``."""
    if history_length < 1 or per_user < 1:
        raise ValueError(f"history_length and per_user must be >= 1, got {history_length} and {per_user}")
    rng = numpy_rng(seed)
    chrono = data.chronological()
    items, ratings = chrono["item"].to_numpy(), chrono["rating"].to_numpy(np.float64)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(chrono["user"].to_numpy(), minlength=data.n_users))])
    labels = item_labels(data.items)
    questions, y, who, what = [], [], [], []
    for user in users:
        start, stop = int(indptr[user]), int(indptr[user + 1])
        if stop - start < 4:
            continue
        for t in rng.choice(np.arange(start + 3, stop), size=min(per_user, stop - start - 3), replace=False):
            window = range(max(start, t - history_length), t)
            liked = [labels[items[i]] for i in window if ratings[i] >= LIKED]
            disliked = [labels[items[i]] for i in window if ratings[i] < LIKED]
            questions.append(preference_prompt(liked, disliked, labels[items[t]]))
            y.append(ratings[t] >= LIKED)
            who.append(user)
            what.append(items[t])
    return questions, np.array(y, dtype=bool), np.array(who, dtype=np.int64), np.array(what, dtype=np.int64)


def answer_ids(tokenizer: Any) -> tuple[int, int]:
    """The token ids of ``"Yes"`` and ``"No"`` (each must be one token)."""
    ids = [tokenizer(word, add_special_tokens=False)["input_ids"] for word in ("Yes", "No")]
    if any(len(i) != 1 for i in ids):
        raise ValueError(f"'Yes' and 'No' must each be one token for this tokenizer, got {ids}")
    return ids[0][0], ids[1][0]


def _batch(tokenizer: Any, questions: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ids of the chat prompts, their mask and the index of each prompt's last token."""
    rows = [tokenizer(chat_prompt(tokenizer, q), add_special_tokens=False)["input_ids"] for q in questions]
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)], mask[i, : len(row)] = torch.as_tensor(row), 1
    return ids, mask, torch.as_tensor([len(r) - 1 for r in rows])


def _yes_no_logit(model: torch.nn.Module, tokenizer: Any, questions: Sequence[str], yes: int, no: int) -> torch.Tensor:
    ids, mask, last = _batch(tokenizer, questions)
    logits = model(input_ids=ids, attention_mask=mask).logits[torch.arange(len(questions)), last]
    return (logits[:, yes] - logits[:, no]).float()


def yes_no_scores(model: torch.nn.Module, tokenizer: Any, questions: Sequence[str], batch_size: int = 16) -> np.ndarray:
    """``z_yes - z_no`` after each question (module docstring), batched."""
    yes, no = answer_ids(tokenizer)
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(questions), batch_size):
            out.append(_yes_no_logit(model, tokenizer, questions[start : start + batch_size], yes, no))
    return torch.cat(out).double().numpy() if out else np.zeros(0)


@dataclass
class FineTuneHistory:
    """Loss and seconds of every optimisation step; the number of trained parameters; ``training`` is the shared
    loop's :class:`~llmrec.training.TrainingHistory` (``training.loss``: the mean loss of each pass over the
    questions)."""

    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    trainable: int = 0
    training: TrainingHistory = field(default_factory=TrainingHistory)


def finetune_yes_no(
    model: torch.nn.Module,
    tokenizer: Any,
    questions: Sequence[str],
    labels: np.ndarray,
    steps: int = 40,
    batch_size: int = 8,
    learning_rate: float = 1e-3,
    method: str = "lora",
    lora_rank: int = 8,
    last_layers: int = 2,
    seed: int = 42,
    progress: bool = False,
) -> tuple[torch.nn.Module, FineTuneHistory]:
    """Fine-tune on yes/no questions; returns ``(model, history)``.

    ``method="lora"`` wraps ``model`` in a ``peft`` LoRA model (rank ``lora_rank`` on ``q_proj``/``v_proj``; the
    base weights stay frozen and the returned model is the wrapper); ``"last_layers"`` trains the final
    ``last_layers`` decoder layers and the final norm in place. The shared :class:`~llmrec.training.Trainer`
    runs ``steps`` AdamW steps of binary cross-entropy on ``z_yes - z_no``: each epoch is a fresh seeded
    permutation of the questions cut into ``len(questions) // batch_size`` full batches (the remainder waits for
    the next permutation; a ``batch_size`` above the number of questions takes them all), and training stops
    after ``steps`` batches.
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1 (fine-tuning would do nothing), got {steps}, {batch_size}")
    if len(questions) != len(labels) or len(questions) == 0:
        raise ValueError(f"got {len(questions)} questions and {len(labels)} labels; need the same number, > 0")
    if method == "lora":
        from peft import LoraConfig, get_peft_model

        with torch.random.fork_rng():
            torch.manual_seed(seed)
            config = LoraConfig(
                r=lora_rank, lora_alpha=2 * lora_rank, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]
            )
            model = get_peft_model(model, config)
    elif method == "last_layers":
        for p in model.parameters():
            p.requires_grad_(False)
        layers = model.model.layers
        for module in [*layers[len(layers) - last_layers :], model.model.norm]:
            for p in module.parameters():
                p.requires_grad_(True)
    else:
        raise ValueError(f"method must be 'lora' or 'last_layers', not {method!r}")
    yes, no = answer_ids(tokenizer)
    target = torch.as_tensor(np.asarray(labels, dtype=np.float32))
    per_epoch = max(1, len(questions) // batch_size)  # a batch larger than the data takes all of it

    def epoch_batches(generator: torch.Generator) -> list[list[int]]:
        order = torch.randperm(len(questions), generator=generator)
        return [order[b * batch_size : (b + 1) * batch_size].tolist() for b in range(per_epoch)]

    def batch_loss(rows: list[int]) -> tuple[torch.Tensor, float]:
        logit = _yes_no_logit(model, tokenizer, [questions[i] for i in rows], yes, no)
        return torch.nn.functional.binary_cross_entropy_with_logits(logit, target[rows]), float(len(rows))

    trainer = Trainer(
        epochs=-(-steps // per_epoch),
        max_steps=steps,
        learning_rate=learning_rate,
        optimizer="adamw",
        seed=seed,
        progress=progress,
        desc="fine-tune",
    )
    training = trainer.fit(model, epoch_batches, batch_loss, generator=torch_generator(seed))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    history = FineTuneHistory(training.step_loss, training.step_seconds, trainable, training)
    return model, history


def causal_lm_loss(model: torch.nn.Module, tokenizer: Any, texts: Sequence[str]) -> torch.Tensor:
    """Mean next-token cross-entropy of ``texts`` (what the articles' fine-tuning listings meant to minimise):

        L = -(1 / N) sum_{b, t >= 2, m_bt = 1} log p(x_bt | x_b1..x_b(t-1)),

    padded to one batch (the tokenizer must have a pad token), labels = input ids with padding set to -100 so it
    is ignored; the model (``...ForCausalLM``) shifts the labels by one position itself."""
    if tokenizer.pad_token is None:
        raise ValueError("the tokenizer has no pad token: set tokenizer.pad_token = tokenizer.eos_token first")
    batch = tokenizer(list(texts), padding=True, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels).loss
