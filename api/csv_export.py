"""CSV exports: cells safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime


def cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    # Spreadsheet formula injection: a leading =, +, - or @ would run as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_chunks(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header and rows as CSV text, in chunks of about 64 kB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
