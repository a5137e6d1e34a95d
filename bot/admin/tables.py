"""Every console table can be downloaded: `?format=xlsx` (or `csv`) with Chinese headers, formula-safe
through `bot.export`; the page shows an 导出 link built by `export_url()`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flask import Response, request

from bot import clock, export

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wants_export() -> str | None:
    fmt = request.args.get("format", "")
    return fmt if fmt in ("xlsx", "csv") else None


def download(name: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    """The table as a file named `name-YYYY-MM-DD.xlsx` (or .csv)."""
    fmt = wants_export() or "xlsx"
    filename = f"{name}-{clock.today().isoformat()}.{fmt}"
    if fmt == "csv":
        body, mimetype = export.csv_bytes(header, rows), "text/csv; charset=utf-8"
    else:
        body, mimetype = export.xlsx_bytes(header, rows, sheet=name), XLSX
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def export_url(fmt: str = "xlsx") -> str:
    args = request.args.to_dict()
    args.pop("page", None)
    args["format"] = fmt
    return request.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in args.items())
