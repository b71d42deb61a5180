"""The two pre-training objectives' inputs and labels, and the learning-rate schedule of the shared trainer
(chapter: *Neural language models*).

* Masked language modelling (BERT): choose each non-special position with probability ``p`` (0.15) into the
  set ``M``; of the chosen, replace 80 % by ``[MASK]``, 10 % by a random token, keep 10 %; the loss is
  ``-sum_{t in M} log P(w_t | x~)`` over the corrupted input ``x~``, and every other label is -100 (ignored).
* Causal (autoregressive) language modelling (GPT): the label of position ``t`` is the token at ``t + 1``;
  the loss is ``-sum_t log P(w_{t+1} | w_1..w_t)``.

:func:`mask_tokens` draws its random numbers in the order of ``transformers.DataCollatorForLanguageModeling``
(tests check equality with a seeded collator).
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["IGNORE_INDEX", "applied_learning_rates", "causal_lm_labels", "mask_tokens", "warmup_cosine"]

IGNORE_INDEX = -100  # the label PyTorch's cross_entropy and transformers' models skip


def mask_tokens(
    input_ids: torch.Tensor,
    special: torch.Tensor,
    mask_id: int,
    vocab_size: int,
    generator: torch.Generator,
    mlm_probability: float = 0.15,
    mask_replace_prob: float = 0.8,
    random_replace_prob: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's corrupted inputs and labels: returns ``(inputs, labels)``.

    ``m_t ~ Bernoulli(p)`` for every position that is not ``special`` (padding, ``[CLS]``, ``[SEP]``);
    ``labels_t = w_t`` if ``m_t`` else -100. A chosen position becomes ``[MASK]`` with probability
    ``mask_replace_prob``, else a uniformly random id in ``0..vocab_size-1`` with probability
    ``random_replace_prob / (1 - mask_replace_prob)``, else keeps its token.
    """
    if not 0 < mlm_probability < 1:
        raise ValueError(f"mlm_probability must be in (0, 1), got {mlm_probability}")
    if not (0 <= mask_replace_prob <= 1 and 0 <= random_replace_prob <= 1 - mask_replace_prob):
        raise ValueError(
            f"mask_replace_prob + random_replace_prob must be at most 1, got {mask_replace_prob}, {random_replace_prob}"
        )
    if special.shape != input_ids.shape:
        raise ValueError(f"special has shape {tuple(special.shape)}, input_ids {tuple(input_ids.shape)}")
    labels, inputs = input_ids.clone(), input_ids.clone()
    probability = torch.full(labels.shape, mlm_probability).masked_fill_(special.bool(), 0.0)
    chosen = torch.bernoulli(probability, generator=generator).bool()
    labels[~chosen] = IGNORE_INDEX
    to_mask = torch.bernoulli(torch.full(labels.shape, mask_replace_prob), generator=generator).bool() & chosen
    inputs[to_mask] = mask_id
    if mask_replace_prob == 1 or random_replace_prob == 0:
        return inputs, labels
    scaled = random_replace_prob / (1 - mask_replace_prob)
    to_random = torch.bernoulli(torch.full(labels.shape, scaled), generator=generator).bool() & chosen & ~to_mask
    random_ids = torch.randint(vocab_size, labels.shape, dtype=torch.long, generator=generator)
    inputs[to_random] = random_ids[to_random]
    return inputs, labels


def causal_lm_labels(input_ids: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
    """Next-token labels for a causal LM: ``labels_t = w_{t+1}``, -100 at the last position and wherever the
    next token is padding. (Hugging Face's causal-LM models take ``labels = input_ids`` and shift inside.)"""
    if padding.shape != input_ids.shape:
        raise ValueError(f"padding has shape {tuple(padding.shape)}, input_ids {tuple(input_ids.shape)}")
    labels = torch.full_like(input_ids, IGNORE_INDEX)
    labels[:, :-1] = input_ids[:, 1:].masked_fill(padding[:, 1:].bool(), IGNORE_INDEX)
    return labels


def warmup_cosine(step: int | np.ndarray, total_steps: int, warmup_steps: int) -> np.ndarray:
    """The learning-rate factor of :class:`llmrec.training.Trainer` with ``decay="cosine"`` at 0-based ``step``:

    ``f(t) = min(1, t / W) * (1 + cos(pi * t / T)) / 2`` with ``t = step + 1``, ``W = warmup_steps``,
    ``T = total_steps``: a linear warm-up multiplied by one half-cosine over the *whole* run (Hugging Face's
    ``get_cosine_schedule_with_warmup`` instead starts its cosine when the warm-up ends)."""
    if total_steps < 1 or warmup_steps < 0:
        raise ValueError(f"need total_steps >= 1 and warmup_steps >= 0, got {total_steps}, {warmup_steps}")
    t = np.asarray(step, dtype=np.float64) + 1
    ramp = np.minimum(1.0, t / warmup_steps) if warmup_steps else np.ones_like(t)
    return ramp * 0.5 * (1.0 + np.cos(math.pi * np.minimum(t, total_steps) / total_steps))


def applied_learning_rates(trainer, steps_per_epoch: int) -> np.ndarray:
    """The learning rate ``trainer`` actually applies at each of its ``epochs * steps_per_epoch`` steps, measured.

    Trains one scalar ``w`` on the loss ``L(w) = w`` (gradient 1 at every step). With a constant gradient Adam's
    bias-corrected moments are exact, ``m^ = 1`` and ``v^ = 1``, so each step moves ``w`` by
    ``lr_t / (1 + eps)``: the path of ``w`` reads off the schedule the optimiser used."""
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be positive, got {steps_per_epoch}")
    if trainer.weight_decay:
        raise ValueError("applied_learning_rates needs weight_decay=0 (the decay would add to the gradient)")
    weight = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    path = [0.0]

    def batch_loss(batch: tuple[torch.Tensor]) -> torch.Tensor:
        path.append(float(weight.detach()))  # the value before this step; the last one is added below
        return weight.sum()

    trainer.fit([weight], lambda generator: [(torch.zeros(1),)] * steps_per_epoch, batch_loss)
    path.append(float(weight.detach()))
    return -np.diff(np.asarray(path[1:])) * (1 + 1e-8)
