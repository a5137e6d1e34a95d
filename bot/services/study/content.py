"""`import-content`: study items from TOML, Markdown (front matter) or XLSX files, or a folder of them.

Upsert by `slug`, all or nothing: any bad item and nothing is applied; errors read `file: reason`, one line
per problem (an item is checked by the pydantic model `ItemIn`, every field of it).
- TOML: one item as top-level keys, or several as `[[items]]`.
- Markdown: `+++` TOML front matter (or `---` lines of `key: value`), the rest is the body.
- XLSX: the first row names the columns (English field names or the Chinese labels below).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from bot import audit, clock, texts
from bot.models import STUDY_SERIES, StudyItem
from bot.services.roster.io import XLSX_ERRORS
from bot.services.study.items import ItemErrors, validate

__all__ = ["STUDY_SERIES", "ContentError", "ImportResult", "ItemErrors", "apply", "import_path", "load", "validate"]

SUFFIXES = (".toml", ".md", ".markdown", ".xlsx")
LIBRARY = texts.CONTENT / "study"
BODY_MAX = 3000
IMPORT_STATUSES = ("draft", "reviewed")
FIELDS = ("slug", "series", "title", "summary", "body", "question", "answer", "publish_on", "urgent",
          "weekly_key", "status", "editor", "reviewer")
CHINESE = {"编号": "slug", "栏目": "series", "系列": "series", "标题": "title", "摘要": "summary", "正文": "body",
           "问题": "question", "思考题": "question", "答案": "answer", "发布日期": "publish_on", "紧急": "urgent",
           "一周要点": "weekly_key", "状态": "status", "编辑": "editor", "审核": "reviewer"}


class ContentError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    slugs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # always empty: a bad item is a ContentError from `load`

    def summary(self) -> str:
        return f"created={self.created} updated={self.updated} unchanged={self.unchanged} rejected=0"


def files_in(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    return [path]


def _front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() not in ("+++", "---"):
        raise ContentError([f"{where}: no front matter (start the file with +++ or ---)"])
    fence = lines[0].strip()
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == fence)
    except StopIteration:
        raise ContentError([f"{where}: front matter is not closed with {fence}"]) from None
    head, body = "\n".join(lines[1:end]), "\n".join(lines[end + 1:]).strip()
    if fence == "+++":
        try:
            meta = tomllib.loads(head)
        except tomllib.TOMLDecodeError as exc:
            raise ContentError([f"{where}: front matter: {exc}"]) from exc
    else:
        meta = {}
        for n, line in enumerate(head.splitlines(), start=2):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise ContentError([f"{where} line {n}: expected key: value"])
            meta[key.strip()] = value.strip().strip('"')
    if body and "body" not in meta:
        meta["body"] = body
    return meta, body


def read_file(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, raw item) pairs of one file; unreadable files raise ContentError."""
    name = str(path)
    if not path.is_file():
        raise ContentError([f"{name}: no such file"])
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError([f"{name}: cannot read ({exc})"]) from exc
    if suffix in (".md", ".markdown"):
        meta, _ = _front_matter(text, name)
        return [(name, meta)]
    if suffix != ".toml":
        raise ContentError([f"{name}: unsupported file type (use .toml, .md or .xlsx)"])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError([f"{name}: {exc}"]) from exc
    if "items" in data:
        if not isinstance(data["items"], list):
            raise ContentError([f"{name}: items must be an array of tables ([[items]])"])
        return [(f"{name} [items {n}]", item) for n, item in enumerate(data["items"], start=1)]
    return [(name, data)]


def _read_xlsx(path: Path) -> list[tuple[str, dict[str, Any]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ContentError([f"{path}: not a readable XLSX file (save it again as .xlsx)"]) from exc
    rows: list[tuple[Any, ...]] = []
    try:
        rows.extend(book.worksheets[0].iter_rows(values_only=True))
    except XLSX_ERRORS as exc:  # XML cannot carry NUL or other control characters: the sheet breaks there
        raise ContentError([f"{path} line {len(rows) + 1}: unreadable row (a cell contains a control character "
                            "or the sheet is damaged)"]) from exc
    finally:
        book.close()
    if not rows:
        return []
    header = [CHINESE.get(str(h or "").strip(), str(h or "").strip().lower()) for h in rows[0]]
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(v not in (None, "") for v in row):
            continue
        item = {k: v for k, v in zip(header, row, strict=False) if k and v not in (None, "")}
        out.append((f"{path} line {n}", item))
    return out


def imported(item: dict[str, Any]) -> None:
    """What an imported file may hold beyond `validate`: a status up to `reviewed` (scheduling and
    publishing are workflow steps, see study_workflow) and a body of at most BODY_MAX characters."""
    if item["status"] not in IMPORT_STATUSES:
        raise ValueError(f"status {item['status']!r} cannot be imported (draft or reviewed; 排期 in the console)")
    if len(item["body"]) > BODY_MAX:
        raise ValueError(f"body is {len(item['body'])} characters, over {BODY_MAX}")


def load(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate every item under `path`; ContentError lists every problem."""
    root = Path(path)
    if not root.exists():
        raise ContentError([f"{root}: no such file or folder"])
    errors: list[str] = []
    items: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for file in files_in(root):
        try:
            raws = read_file(file)
        except ContentError as exc:
            errors.extend(exc.errors)
            continue
        for where, raw in raws:
            try:
                item = validate(raw)
                imported(item)
            except ItemErrors as exc:
                errors.extend(f"{where}: {reason}" for reason in exc.reasons)
                continue
            except ValueError as exc:
                errors.append(f"{where}: {exc}")
                continue
            if item["slug"] in seen:
                errors.append(f"{where}: slug {item['slug']!r} already used in {seen[item['slug']]}")
                continue
            seen[item["slug"]] = where
            items.append(item)
    if errors:
        raise ContentError(errors)
    return items


def apply(session: Session, items: list[dict[str, Any]], actor: str) -> ImportResult:
    """Upsert validated items by slug (flushes; the caller commits)."""
    result = ImportResult()
    now = clock.now()
    for data in items:
        if data["urgent"] and data["publish_on"] is None and data["status"] != "draft":
            data = {**data, "publish_on": clock.next_workday(clock.today(), include=True)}
        item = session.exec(select(StudyItem).where(StudyItem.slug == data["slug"])).first()
        if item is None:
            session.add(StudyItem(**data, created_at=now, updated_at=now))
            result.created += 1
        else:
            if item.status in ("scheduled", "published") and data["status"] == "reviewed":
                data = {**data, "status": item.status}  # re-importing never takes an item back a step
            changed = {k: v for k, v in data.items() if getattr(item, k) != v}
            if not changed:
                result.unchanged += 1
                continue
            for key, value in changed.items():
                setattr(item, key, value)
            item.updated_at = now
            session.add(item)
            result.updated += 1
        result.slugs.append(data["slug"])
    session.flush()
    audit.record(session, actor, "import_content", "study_item",
                 f"created={result.created} updated={result.updated} unchanged={result.unchanged}")
    return result


def import_path(session: Session, path: str | Path, actor: str) -> ImportResult:
    return apply(session, load(path), actor)


def seed_library(session: Session, actor: str = "demo") -> bool:
    """Import the sample library (content/study) when there are no study items yet; True when it did."""
    if session.exec(select(StudyItem.id).limit(1)).first() is not None:
        return False
    import_path(session, LIBRARY, actor)
    return True
