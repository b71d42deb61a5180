"""The errata page is complete: every article location in tests/expected/errata_locations.json has its entry on
book/errata.md, each entry carries an executed check (a glue reference) or says why it cannot be checked, and the
count per article cannot shrink. Chapters 7-10 append their own sections; only the sections listed in the file
(references and chapters 1-6) must match it exactly."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "errata.md"
EXPECTED = json.loads((ROOT / "tests" / "expected" / "errata_locations.json").read_text())
ENTRY = re.compile(r"^\*\*(?P<heading>.+?)\*\*(?P<body>.*?)(?=\n\s*\n|\Z)", re.MULTILINE | re.DOTALL)


def squash(text: str) -> str:
    return " ".join(text.split())


def articles_of(heading: str) -> list[str]:
    """Article numbers named in the heading's last parenthesis: '(articles 002–004, ...)' -> 002, 003, 004."""
    match = re.search(r"\(([^()]*)\)\.?$", heading)
    if not match or "article" not in match.group(1):
        return []
    found: set[str] = set()
    for start, end in re.findall(r"\b(\d{3})[–-](\d{3})\b", match.group(1)):
        found.update(f"{n:03d}" for n in range(int(start), int(end) + 1))
    found.update(re.findall(r"(?<![\d.–-])(\d{3})(?![\d.–-])", match.group(1)))
    return sorted(found)


def page_entries() -> list[dict]:
    """Entries of the page: heading, body, the '## ' section they sit in, and the articles they name."""
    text = PAGE.read_text()
    sections = [(m.start(), m.group(1).strip()) for m in re.finditer(r"^## (.+)$", text, re.MULTILINE)]
    entries = []
    for match in ENTRY.finditer(text):
        section = next((title for start, title in reversed(sections) if start < match.start()), "")
        heading = squash(match["heading"])
        entries.append(
            {"heading": heading, "body": match["body"], "section": section, "articles": articles_of(heading)}
        )
    return entries


ENTRIES = page_entries()


def find(heading: str) -> dict:
    matches = [e for e in ENTRIES if e["heading"].startswith(heading)]
    assert len(matches) == 1, f"{len(matches)} entries on errata.md start with {heading!r}"
    return matches[0]


def test_parser_on_a_range_and_a_pair() -> None:
    assert articles_of("Claim (articles 002–004, throughout).") == ["002", "003", "004"]
    assert articles_of("Split (articles 000 §4.2 and 001 §3.2.3).") == ["000", "001"]
    assert articles_of("A library's erratum (nltk 3.10).") == []


@pytest.mark.parametrize("expected", EXPECTED["entries"], ids=lambda e: e["heading"][:40])
def test_listed_entry_is_on_the_page(expected: dict) -> None:
    entry = find(expected["heading"])
    assert entry["articles"] == expected["articles"], f"{expected['heading']!r}: articles {entry['articles']}"
    assert expected["location"] in entry["heading"], (
        f"{expected['heading']!r} lost its location {expected['location']!r}"
    )
    assert entry["section"] == expected["section"], f"{expected['heading']!r} moved to section {entry['section']!r}"
    if expected["check"] == "glue":
        assert "{glue:" in entry["body"], f"{expected['heading']!r} has no executed check"
    else:
        assert "*Cannot be checked:*" in squash(entry["body"]), f"{expected['heading']!r}: no reason"


def test_listed_sections_hold_only_listed_entries() -> None:
    sections = {e["section"] for e in EXPECTED["entries"]}
    listed = {e["heading"] for e in EXPECTED["entries"]}
    unlisted = [
        e["heading"]
        for e in ENTRIES
        if e["section"] in sections and not any(e["heading"].startswith(h) for h in listed)
    ]
    assert not unlisted, f"errata entries missing from tests/expected/errata_locations.json: {unlisted}"


def test_count_per_article_cannot_shrink() -> None:
    on_page = Counter(a for e in ENTRIES for a in e["articles"])
    listed = Counter(a for e in EXPECTED["entries"] for a in e["articles"])
    assert listed == Counter(EXPECTED["count_per_article"]), "count_per_article disagrees with the entries"
    for article, count in listed.items():
        assert on_page[article] >= count, f"article {article}: {on_page[article]} entries on the page, {count} listed"
