"""Exceptions shared by the whole package."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DataFormatError", "DataUnavailableError", "ChecksumError", "ConfigError"]


class DataFormatError(ValueError):
    """A data file is missing, truncated or malformed.

    The message always names the file and, where one is at fault, the 1-based line number.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}" if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}")


class ChecksumError(DataFormatError):
    """A file's SHA-256 differs from the one the dataset registry expects."""


class DataUnavailableError(RuntimeError):
    """A dataset could not be obtained (no network, registry refused, ...); the message says what to do."""


class ConfigError(ValueError):
    """A run configuration names an unknown dataset, model, metric or an invalid value; names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"config field '{field}': {message}")
