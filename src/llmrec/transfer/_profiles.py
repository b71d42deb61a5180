"""A user's demographics as one English sentence, the input of the profile tower (chapter: *Interest transfer
and cold start*).

Template (age band from :data:`~llmrec.models._demographic.AGE_BINS`, so ML-100K's exact ages and ML-1M's codes
give the same sentence)::

    "A {man|woman} aged {age band} who {occupation phrase}."
    e.g. "A woman aged 25-34 who works as a programmer."

A missing attribute is left out of the sentence ("A person aged 25-34."); an unknown gender code is "person".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["AGE_BANDS", "distinct_profiles", "occupation_phrase", "profile_texts"]

#: ML-1M's age groups (lower bound -> words).
AGE_BANDS = {1: "under 18", 18: "18-24", 25: "25-34", 35: "35-44", 45: "45-49", 50: "50-55", 56: "56 or over"}
_GENDERS = {"M": "man", "F": "woman"}
#: occupations that do not read as "works as a ..." (ML-100K's and ML-1M's spellings)
_SPECIAL = {
    "none": "has no occupation",
    "unemployed": "is unemployed",
    "other": "has an unlisted occupation",
    "other or not specified": "has an unlisted occupation",
    "retired": "is retired",
    "student": "is a student",
    "k-12 student": "is a school student",
    "college/grad student": "is a college or graduate student",
    "homemaker": "is a homemaker",
    "self-employed": "is self-employed",
    "entertainment": "works in entertainment",
    "marketing": "works in marketing",
    "sales/marketing": "works in sales or marketing",
    "healthcare": "works in health care",
    "doctor/health care": "works as a doctor or in health care",
    "customer service": "works in customer service",
}


def occupation_phrase(occupation: str) -> str:
    """``"works as a programmer"``, ``"is retired"``, ...; a slash reads as "or" ("academic/educator" ->
    "works as an academic or educator")."""
    name = str(occupation).strip().lower()
    if name in _SPECIAL:
        return _SPECIAL[name]
    words = name.replace("/", " or ")
    article = "an" if words[:1] in "aeiou" else "a"
    return f"works as {article} {words}"


def profile_texts(users: pd.DataFrame) -> list[str]:
    """One sentence per row of a users table (columns ``age``, ``gender``, ``occupation``, any may be absent)."""
    from ..models._demographic import age_group  # models import the transfer package: import here

    if users is None or len(users) == 0:
        raise ValueError("profile_texts needs a users table with at least one row")
    n = len(users)
    ages = (
        [f" aged {AGE_BANDS[int(a)]}" for a in age_group(users["age"].to_numpy())]
        if "age" in users.columns
        else [""] * n
    )
    genders = (
        [_GENDERS.get(str(g).upper(), "person") for g in users["gender"]]
        if "gender" in users.columns
        else ["person"] * n
    )
    jobs = [f" who {occupation_phrase(o)}" for o in users["occupation"]] if "occupation" in users.columns else [""] * n
    return [f"A {gender}{age}{job}." for gender, age, job in zip(genders, ages, jobs, strict=True)]


def distinct_profiles(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """``(unique texts, index of each user's text in them)``: users with the same profile share one vector."""
    unique, inverse = np.unique(np.asarray(texts, dtype=object).astype(str), return_inverse=True)
    return unique.tolist(), inverse.astype(np.int64)
