"""Reading roster-style tables (CSV or XLSX) and parsing their cells.

`read_table(path)` returns a `Table`: a list of `(line_number, {header: text})` with the file's header
kept in `Table.header`; `open_table(path)` gives the same rows as a stream (`TableFile`), for imports of
any length. Line numbers are file rows (the header is row 1, as a spreadsheet shows them);
fully blank rows are skipped but still counted. Every value is text: XLSX numbers that are whole become
`"1001"` (never `"1001.0"`), date cells become `YYYY-MM-DD`. The importers map headers themselves
(`roster.cells.map_headers`), so the same reader serves the roster and the branch list.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import unicodedata
import warnings
import zipfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bot.controlchars import has_control

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
# what openpyxl raises for a damaged file; XML parse errors (NUL, control characters) are SyntaxErrors
XLSX_ERRORS = (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError, SyntaxError)
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


class RosterError(Exception):
    """Bad input for an import: `errors` holds one `line N: reason` per problem."""

    def __init__(self, errors: str | Iterable[str]):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


class MemberNotFound(RosterError, LookupError):
    """No member has that userid."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return f"created={self.created} updated={self.updated} rejected={len(self.errors)}"


class Table(list):
    """`list[(line_number, row)]` that also remembers the header row of the file."""

    def __init__(self, rows: Iterable[tuple[int, dict[str, str]]] = (), header: Iterable[str] = ()):
        super().__init__(rows)
        self.header = list(header)


def norm(value: str) -> str:
    """NFKC (full-width digits and punctuation), trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


def header_key(value: str) -> str:
    return norm(value).lower()


def cell_text(value: Any) -> str:
    """One spreadsheet cell as text."""
    if isinstance(value, str):  # every CSV cell: the common case first
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (Excel in China saves "CSV" that way)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError("line 1: the file is neither UTF-8 nor GB18030 text")


def _file_encoding(path: Path) -> str:
    """The encoding `_decode` would pick, found by decoding the file block by block (never all at once)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as fh:
                while block := fh.read(1 << 16):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise RosterError("line 1: the file is neither UTF-8 nor GB18030 text")


def _delimiter(first_line: str) -> str:
    return "\t" if "\t" in first_line and "," not in first_line else ","


def _records(raw_rows: Iterable[tuple[int, list[Any]]], header_out: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """`(line, {header: text})` for every non-blank row after the header (row 1), which fills `header_out`."""
    header: list[str] | None = None
    for line, values in raw_rows:
        cells = [cell_text(v) for v in values]
        if not any(cells):
            continue
        if header is None:
            if line != 1:
                raise RosterError(f"line {line}: the header must be on row 1 (row 1 is blank)")
            header = [norm(c) for c in cells]
            seen: dict[str, int] = {}
            for index, name in enumerate(header):
                if has_control(name):
                    raise RosterError(f"line 1: column {index + 1} contains a control character")
                if name and header_key(name) in seen:
                    raise RosterError(f"line 1: column {name!r} appears twice")
                seen[header_key(name)] = index
            header_out[:] = [h for h in header if h]
            continue
        row: dict[str, str] = {}
        for index, value in enumerate(cells):
            name = header[index] if index < len(header) else ""
            if not name:
                if value:
                    shown = "a control character" if has_control(value) else repr(value)
                    raise RosterError(f"line {line}: value {shown} in column {index + 1} has no header")
                continue
            row[name] = value
        for name in header:
            if name:
                row.setdefault(name, "")
        yield line, row
    if header is None:
        raise RosterError("line 1: the file is empty (no header row)")


def _rows_to_table(raw_rows: Iterable[tuple[int, list[Any]]]) -> Table:
    header: list[str] = []
    rows = list(_records(raw_rows, header))
    return Table(rows, header)


def _csv_rows(text_stream: IO[str]) -> Iterator[tuple[int, list[str]]]:
    first = text_stream.readline()
    text_stream.seek(0)
    reader = csv.reader(text_stream, delimiter=_delimiter(first))
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise RosterError(f"line {reader.line_num}: unreadable CSV ({exc})") from exc


def read_csv_bytes(data: bytes) -> Table:
    return _rows_to_table(_csv_rows(io.StringIO(_decode(data), newline="")))


def _open_book(source: Path | io.BytesIO) -> Any:
    import openpyxl  # only for XLSX files (start-up time of every command that imports this module)

    with warnings.catch_warnings():
        # WPS/Excel files often lack a default style or carry data validation openpyxl cannot read.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        try:
            return openpyxl.load_workbook(source, read_only=True, data_only=True)
        except XLSX_ERRORS as exc:
            raise RosterError("line 1: not a readable XLSX file (save it again as .xlsx or .csv)") from exc


def _xlsx_rows(source: Path | io.BytesIO) -> Iterator[tuple[int, list[Any]]]:
    book = _open_book(source)
    line = 0
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            for line, values in enumerate(book.worksheets[0].iter_rows(values_only=True), 1):
                yield line, list(values)
    except XLSX_ERRORS as exc:  # XML cannot carry NUL or other control characters: the sheet breaks there
        raise RosterError(f"line {line + 1}: unreadable row (a cell contains a control character or the "
                          "sheet is damaged)") from exc
    finally:
        book.close()


def read_xlsx(path: Path | io.BytesIO) -> Table:
    return _rows_to_table(_xlsx_rows(path))


class TableFile:
    """A CSV or XLSX file read as a stream: `header` is read at once, and every iteration reads the file
    again from the start, one row at a time, yielding `(line, {header: text})` like `Table` does. Memory
    stays flat however long the file is (CSV through `csv.reader` over the open file, XLSX through
    openpyxl's read-only `iter_rows`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise RosterError(f"cannot read {self.path}: no such file")
        suffix = self.path.suffix.lower()
        if suffix == ".xls":
            raise RosterError(f"{self.path.name}: old .xls files are not supported, save it as .xlsx or .csv")
        try:
            with self.path.open("rb") as fh:
                magic = fh.read(4)
        except OSError as exc:
            raise RosterError(f"cannot read {self.path}: {exc.strerror or 'unreadable'}") from exc
        self.xlsx = suffix in XLSX_SUFFIXES or (suffix not in CSV_SUFFIXES and magic == b"PK\x03\x04")
        self.encoding = "" if self.xlsx else _file_encoding(self.path)
        self.header: list[str] = []
        stream = self._stream(self.header)  # reads up to the first row: fills the header or raises
        try:
            next(stream, None)
        finally:
            stream.close()

    def _stream(self, header_out: list[str]) -> Generator[tuple[int, dict[str, str]], None, None]:
        if self.xlsx:
            yield from _records(_xlsx_rows(self.path), header_out)
            return
        with self.path.open(encoding=self.encoding, newline="") as fh:
            yield from _records(_csv_rows(fh), header_out)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return self._stream([])


def open_table(path: str | Path) -> TableFile:
    """The rows of a CSV or XLSX file (first sheet) as a stream; see `TableFile`."""
    return TableFile(path)


def read_table(path: str | Path) -> Table:
    """Rows of a CSV or XLSX file (first sheet), all in memory; see the module docstring."""
    stream = open_table(path)
    return Table(list(stream), stream.header)
