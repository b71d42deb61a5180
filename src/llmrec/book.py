"""Recorded numbers: how a notebook publishes a value to the book's prose and to the tests.

In a notebook, ``record("pop_ndcg10", value)`` stores the value with ``myst_nb.glue`` (so the prose can quote
it as ``{glue:text}`pop_ndcg10:.4f```), and :func:`read_records` reads the same values back from the executed
(papermill) copy, where glue left them as outputs whose ``metadata.scrapbook.name`` is the key.

:func:`record_meta` stores *unasserted* metadata the same way (a label, a chapter number, wall-clock seconds): its
outputs carry ``metadata.llmrec.meta = true``, :func:`read_records` skips them (so the tests never compare them
with ``tests/expected``) and :func:`read_meta` reads them back (the results page uses them).
"""

from __future__ import annotations

import ast
import json
import math
from numbers import Integral, Real
from pathlib import Path
from typing import Any

__all__ = ["compare_records", "expected_values", "read_meta", "read_records", "record", "record_meta"]

GLUE_PREFIX = "application/papermill.record/"  # myst_nb.glue's prefix for outputs that are stored, not shown


def _plain(value: Any) -> Any:
    """Python scalars for NumPy/torch scalars, so the stored text is a plain literal."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    return value


def record(key: str, value: Any) -> Any:
    """Glue ``value`` under ``key`` (no visible output) and return it. Numbers only (int, float, bool)."""
    from myst_nb import glue

    value = _plain(value)
    if not isinstance(value, int | float | bool):
        raise TypeError(f"record({key!r}, ...) takes a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"record({key!r}, ...) got a non-finite value {value}")
    glue(key, value, display=False)
    return value


def record_meta(key: str, value: Any) -> Any:
    """Glue unasserted metadata (str, number, bool or None) under ``key``, marked so :func:`read_records` skips it.

    The output is what ``myst_nb.glue(key, value, display=False)`` writes, plus ``metadata.llmrec.meta = true``.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    value = _plain(value)
    if value is not None and not isinstance(value, str | int | float | bool):
        raise TypeError(f"record_meta({key!r}, ...) takes a string, number or None, got {type(value).__name__}")
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": key, "mime_prefix": GLUE_PREFIX}
    metadata["llmrec"] = {"meta": True}
    display({GLUE_PREFIX + mime: data for mime, data in bundle.items()}, raw=True, metadata=metadata)
    return value


def _glued(notebook: str | Path, meta: bool) -> dict[str, Any]:
    """Glued values (``meta=False``) or metadata (``meta=True``); a key glued twice is refused (``ValueError``):
    the prose would quote one of two different values."""
    data = json.loads(Path(notebook).read_text())
    records: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for cell in data.get("cells", []):
        for output in cell.get("outputs", []):
            metadata = output.get("metadata", {})
            scrapbook = metadata.get("scrapbook", {})
            name = scrapbook.get("name")
            if name is None or bool(metadata.get("llmrec", {}).get("meta", False)) != meta:
                continue
            counts[name] = counts.get(name, 0) + 1
            text = output.get("data", {}).get(scrapbook.get("mime_prefix", "") + "text/plain")
            text = "".join(text) if isinstance(text, list) else text
            try:
                records[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                records[name] = text
    twice = sorted(name for name, count in counts.items() if count > 1)
    if twice:
        raise ValueError(
            f"{notebook}: key {twice[0]!r} is recorded {counts[twice[0]]} times (every key once; also: {twice[1:]})"
        )
    return records


def read_records(notebook: str | Path) -> dict[str, Any]:
    """Every value an executed notebook recorded with :func:`record`: ``{key: value}`` (parsed from their text)."""
    return _glued(notebook, meta=False)


def read_meta(notebook: str | Path) -> dict[str, Any]:
    """Every value an executed notebook stored with :func:`record_meta` (never asserted by the tests)."""
    return _glued(notebook, meta=True)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def compare_records(actual: dict[str, Any], expected: dict[str, dict[str, Any]]) -> list[str]:
    """Problems between recorded values and ``tests/expected`` entries ``{"value": v, "atol": a | "rtol": r}``.

    Every expected key must be recorded and every recorded key must be expected; an entry without a tolerance
    must match exactly. A value passes when ``|x - v| <= atol + rtol |v|``; the expected value and tolerances must
    be finite (a NaN would make the comparison pass anything) and tolerances non-negative.
    """
    problems = [f"{key}: expected but not recorded" for key in sorted(set(expected) - set(actual))]
    problems += [f"{key}: recorded but has no expected value" for key in sorted(set(actual) - set(expected))]
    for key in sorted(set(actual) & set(expected)):
        spec, value = expected[key], actual[key]
        if "value" not in spec:
            problems.append(f"{key}: the expected entry {spec!r} has no expected 'value'")
            continue
        target = spec["value"]
        if not _is_number(target):
            problems.append(f"{key}: expected value {target!r} is not a finite number")
            continue
        bad = [f"{name}={spec[name]!r}" for name in ("atol", "rtol") if name in spec and not _is_number(spec[name])]
        bad += [f"{name}={spec[name]!r}" for name in ("atol", "rtol") if _is_number(spec.get(name)) and spec[name] < 0]
        if bad:
            problems.append(f"{key}: tolerance {', '.join(bad)} must be a finite non-negative number")
            continue
        tolerance = spec.get("atol", 0.0) + spec.get("rtol", 0.0) * abs(target)
        if not _is_number(value) or abs(value - target) > tolerance:
            problems.append(f"{key}: got {value!r}, expected {target!r} +/- {tolerance:g}")
    return problems


TOLERANCE_FIELDS = ("atol", "rtol")


def expected_values(folder: str | Path, stem: str, cpu: str) -> tuple[dict[str, dict[str, Any]], list[Path]]:
    """The entries a run of notebook ``stem`` is compared with, and the files they came from.

    ``<folder>/<stem>.json`` holds every key. A trained model's last decimals depend on the CPU even with the
    Makefile's kernel pinning, so ``<folder>/cpu/<cpu>/<stem>.json``, where it exists, holds the values measured on
    that CPU kind (:func:`llmrec.benchmark.cpu_kind`) for the keys that differ there, and they replace the base
    file's. A per-CPU entry may only change a value: its key must be in the base file, with the same tolerance
    (nothing is loosened by machine), and its value must lie outside the base entry's tolerance (else the entry
    says nothing). A file breaking these rules is refused (``ValueError`` naming the file and the keys)."""
    folder = Path(folder)
    base_file = folder / f"{stem}.json"
    expected = json.loads(base_file.read_text())
    cpu_file = folder / "cpu" / cpu / f"{stem}.json"
    if not cpu_file.is_file():
        return expected, [base_file]
    overrides = json.loads(cpu_file.read_text())
    unknown = sorted(set(overrides) - set(expected))
    if unknown:
        raise ValueError(f"{cpu_file}: keys not in {base_file.name}: {unknown} (new keys go to the base file)")
    loosened = [
        key
        for key, spec in overrides.items()
        if {name: spec.get(name) for name in TOLERANCE_FIELDS}
        != {name: expected[key].get(name) for name in TOLERANCE_FIELDS}
    ]
    if loosened:
        raise ValueError(f"{cpu_file}: tolerances differ from {base_file.name} for {sorted(loosened)}")
    same = [k for k, e in overrides.items() if "value" in e and not compare_records({k: e["value"]}, {k: expected[k]})]
    if same:
        raise ValueError(f"{cpu_file}: values within the base file's tolerance (drop them): {sorted(same)}")
    return {**expected, **overrides}, [base_file, cpu_file]
