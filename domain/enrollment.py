"""Bulk import of iDRAC addresses: CSV or YAML in, validated rows (with their line) out.

Pure: the store resolves names (site, cluster, credential profile) afterwards. Every bad
row is reported with its line and problem, never only the first one. YAML is read with a
safe loader that refuses more than a few aliases (an alias bomb expands exponentially).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

Format = Literal["csv", "yaml"]
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ALIASES = 16
COLUMNS = ("address", "service_tag", "site", "cluster", "esxi_host", "labels", "credential_profile")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_SERVICE_TAG = re.compile(r"^[A-Z0-9]{7}$")
_LABEL_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$")


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line of the file; 0: the file as a whole
    field: str | None
    problem: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.problem}"


@dataclass(frozen=True)
class ImportRow:
    line: int
    address: str
    service_tag: str | None = None
    site: str | None = None
    cluster: str | None = None
    esxi_host: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    credential_profile: str | None = None


class InvalidImport(ValueError):
    """Every problem of the file; nothing of it may be imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors[:20]))
        self.errors = errors


def normalize_address(text: str) -> str:
    """An IP address (canonical text, IPv6 bracket-free) or a host name (lower case)."""
    candidate = text.strip().strip("[]")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        pass
    if _HOSTNAME.match(candidate) and not candidate.replace(".", "").isdigit():
        return candidate.lower()
    raise ValueError("is not an IP address or host name")


# --- reading the file --------------------------------------------------------------------


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases while composing the document."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise InvalidImport(
                    [RowError(mark.line + 1, None, f"more than {MAX_ALIASES} YAML aliases")]
                )
        return super().compose_node(parent, index)


def _yaml_records(text: str) -> list[tuple[int, Any]]:
    try:
        loader = _GuardedLoader(text)  # the reader refuses control characters here
    except yaml.YAMLError:
        raise InvalidImport([RowError(0, None, "not valid YAML (control characters)")]) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return []
        if isinstance(root, yaml.MappingNode):  # {idracs: [...]}
            items = {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}
            if set(items) != {"idracs"}:
                raise InvalidImport(
                    [RowError(root.start_mark.line + 1, None, "expected a list, or idracs: [...]")]
                )
            root = items["idracs"]
        if not isinstance(root, yaml.SequenceNode):
            raise InvalidImport([RowError(root.start_mark.line + 1, None, "expected a list")])
        return [
            (node.start_mark.line + 1, loader.construct_object(node, deep=True))
            for node in root.value
        ]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise InvalidImport([RowError(line, None, "not valid YAML")]) from None
    finally:
        loader.dispose()


def _csv_records(text: str) -> list[tuple[int, Any]]:
    # newline="": the csv module itself reads \r, \n and \r\n line ends (and newlines in
    # quoted cells); a translated stream refused a lone \r with an exception.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _csv_rows(reader)
    except csv.Error as exc:  # line_num does not count the line it failed on yet
        raise InvalidImport(
            [RowError(reader.line_num + 1, None, f"not valid CSV: {exc}")]
        ) from None


def _csv_rows(reader: csv.DictReader[str]) -> list[tuple[int, Any]]:
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in COLUMNS]
    if "address" not in header or unknown:
        problem = (
            f"unknown columns {unknown} (known: {', '.join(COLUMNS)})"
            if unknown
            else "the header names no address column"
        )
        raise InvalidImport([RowError(1, None, problem)])
    reader.fieldnames = header
    records = []
    for record in reader:
        if None in record:
            records.append((reader.line_num, {"__extra__": True}))
            continue
        cells = {k: v.strip() for k, v in record.items() if v is not None and v.strip()}
        if "labels" in cells:
            cells["labels"] = _csv_labels(cells["labels"])
        records.append((reader.line_num, cells))
    return records


def _csv_labels(text: str) -> dict[str, str] | str:
    """``env=prod;rack=R12`` -> a mapping (kept as text when malformed, for the error)."""
    pairs = [part.split("=", 1) for part in text.split(";") if part.strip()]
    if any(len(pair) != 2 for pair in pairs):
        return text
    return {key.strip(): value.strip() for key, value in pairs}


def read_records(text: str, fmt: Format) -> list[tuple[int, Any]]:
    if len(text.encode()) > MAX_BYTES:
        raise InvalidImport([RowError(0, None, f"larger than {MAX_BYTES} bytes")])
    records = _yaml_records(text) if fmt == "yaml" else _csv_records(text)
    if len(records) > MAX_ROWS:
        raise InvalidImport([RowError(0, None, f"more than {MAX_ROWS} rows")])
    return records


# --- checking the rows -------------------------------------------------------------------


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(f"{name}: must be text")
    text = str(value).strip()
    if len(text) > limit:
        raise ValueError(f"{name}: longer than {limit} characters")
    return text or None


def _labels(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("labels: must be key=value pairs (CSV: env=prod;rack=R12)")
    labels = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _LABEL_KEY.match(key):
            raise ValueError(f"labels: {str(key)[:64]!r} is not a label name")
        text = _text(item, f"labels.{key}", 128)
        labels[key] = text or ""
    return labels


def _row(line: int, record: Any) -> ImportRow:
    if not isinstance(record, dict):
        raise ValueError("expected a mapping with at least an address")
    if record.get("__extra__"):
        raise ValueError("more cells than the header has columns")
    unknown = sorted(str(k) for k in record if k not in COLUMNS)
    if unknown:
        raise ValueError(f"unknown fields {unknown} (known: {', '.join(COLUMNS)})")
    address = _text(record.get("address"), "address", 255)
    if address is None:
        raise ValueError("address: missing")
    try:
        address = normalize_address(address)
    except ValueError as exc:
        raise ValueError(f"address: {exc}") from None
    tag = _text(record.get("service_tag"), "service_tag", 16)
    if tag is not None and not _SERVICE_TAG.match(tag.upper()):
        raise ValueError("service_tag: a Dell service tag is 7 letters or digits")
    return ImportRow(
        line=line,
        address=address,
        service_tag=tag.upper() if tag else None,
        site=_text(record.get("site"), "site", 128),
        cluster=_text(record.get("cluster"), "cluster", 128),
        esxi_host=_text(record.get("esxi_host"), "esxi_host", 255),
        labels=_labels(record.get("labels")),
        credential_profile=_text(record.get("credential_profile"), "credential_profile", 128),
    )


def parse_import(text: str, fmt: Format) -> tuple[list[ImportRow], list[RowError]]:
    """The good rows and the problems of the bad ones (duplicates included), so that the
    caller can add what only the store knows before refusing the file as a whole."""
    rows, errors = [], []
    first_line: dict[str, int] = {}
    for line, record in read_records(text, fmt):
        try:
            row = _row(line, record)
        except ValueError as exc:
            name, _, problem = str(exc).partition(": ")
            known = name in COLUMNS or name.startswith("labels")
            errors.append(RowError(line, name if known else None, problem if known else str(exc)))
            continue
        if row.address in first_line:
            errors.append(
                RowError(
                    line, "address", f"{row.address} already on line {first_line[row.address]}"
                )
            )
            continue
        first_line[row.address] = line
        rows.append(row)
    if not rows and not errors:
        raise InvalidImport([RowError(0, None, "no rows")])
    return rows, errors
