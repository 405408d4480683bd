"""Tables as downloads (issue 21): CSV with a UTF-8 byte-order mark (so that Excel reads Chinese) or XLSX
written row by row (openpyxl's write-only mode), in constant memory for any number of rows.

Example:
    >>> b"".join(csv_chunks(["名称", "n"], iter([["=1+1", 2]]))).decode("utf-8-sig").splitlines()
    ['名称,n', "'=1+1,2"]
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi.responses import StreamingResponse
from openpyxl import Workbook

ExportFormat = Literal["csv", "xlsx"]
Cell = str | int | float | None
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Rows written between two chunks of a CSV.
CSV_BATCH = 500
#: Characters a spreadsheet takes as the start of a formula: such a text gets a leading apostrophe, so that
#: a project named ``=HYPERLINK(...)`` stays text in Excel.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def local_text(moment: datetime | None, zone: ZoneInfo) -> str:
    """``moment`` as a spreadsheet shows it: local time in ``zone`` to the second; empty for none (SQLite
    gives naive UTC back, taken as UTC).

    >>> local_text(datetime(2026, 12, 1, 2, 30), ZoneInfo("Asia/Shanghai"))
    '2026-12-01 10:30:00'
    """
    if moment is None:
        return ""
    return (
        (moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        .astimezone(zone)
        .strftime("%Y-%m-%d %H:%M:%S")
    )


def safe(value: Cell) -> Cell:
    """``value``, a text made safe from being read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(headers: list[str], rows: Iterable[list[Cell]]) -> Iterator[bytes]:
    """The CSV of ``headers`` and ``rows`` in chunks, starting with a UTF-8 byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(rows, 1):
        writer.writerow([safe(v) for v in row])
        if n % CSV_BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def xlsx_chunks(headers: list[str], rows: Iterable[list[Cell]], *, title: str) -> Iterator[bytes]:
    """The XLSX workbook of ``headers`` and ``rows``: written row by row to a temporary file (openpyxl's
    write-only mode keeps no row in memory), then read back in chunks and removed."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(headers)
    for row in rows:
        sheet.append([safe(v) for v in row])
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        book.save(path)
        with open(path, "rb") as file:
            while chunk := file.read(1 << 16):
                yield chunk
    finally:
        os.unlink(path)


def table_download(
    *, headers: list[str], rows: Iterable[list[Cell]], fmt: ExportFormat, name: str
) -> StreamingResponse:
    """A streamed download of the table, named ``<name>-<UTC time>.<fmt>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    filename = f"{name}-{stamp}.{fmt}"
    chunks = csv_chunks(headers, rows) if fmt == "csv" else xlsx_chunks(headers, rows, title=name)
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )
