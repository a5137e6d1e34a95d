"""Every message key code names literally exists in content/messages.toml, and the values passed fill exactly
the template's {placeholders} (no KeyError at run time, no value silently dropped); and every key in the file is
read somewhere (no sentence left behind when a reply changes, e.g. a usage text now derived from a declaration)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

from bot import texts

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "scheduler")


def _calls():
    """(file:line, key or f-string prefix, is_prefix, keyword names or None when **values is passed)."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "t"
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "texts" and node.args):
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                names = None if any(k.arg is None for k in node.keywords) else {k.arg for k in node.keywords}
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    yield where, first.value, False, names
                elif isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
                    yield where, str(first.values[0].value), True, names


# Keys read by a name built at run time, which no literal in the code spells out: prefix → where it is read.
# A key is also read when it is a string literal anywhere in the code (texts.t, Refusal.of, a Batch header, an
# approval Kind's label) or starts with an f-string's literal head that goes past the section
# (f"tickets.filed_{kind}"); a head that is only a section (f"points.{kind}.{name}") must be listed here.
DYNAMIC = {
    "labels.": "texts.label / texts.labels / texts.period_words / texts.band_words: labels.<kind>.<value>",
    "media.": "handlers/chat.py media(): media.<msg_type>",
    "points.rules.": "bot/services/points/core.py label(): points.<kind>.<name>",
    "points.categories.": "bot/services/points/core.py label()",
    "points.statuses.": "bot/services/points/core.py label()",
    "approval.pending": "bot/services/approvals.py: approval.<status> in 「已处理」",
    "approval.approved": "bot/services/approvals.py",
    "approval.rejected": "bot/services/approvals.py",
    "approval.withdrawn": "bot/services/approvals.py",
    "study.page_": "bot/study_web.py: study.<k> for the study page's labels",
    "study.archive_": "bot/study_web.py: study.<k> for the /study/ archive page's labels",
}


def _literals() -> tuple[set[str], set[str]]:
    """Every string literal in the code, and every f-string's literal head."""
    literals, heads = set(), set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    literals.add(node.value)
                elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                    heads.add(str(node.values[0].value))
    return literals, heads


def _unused(keys) -> list[str]:
    literals, heads = _literals()
    narrow = tuple(h for h in heads if "." in h and not h.endswith("."))  # a head past the section
    return [key for key in keys if key not in literals and not key.startswith(narrow)
            and not key.startswith(tuple(DYNAMIC))]


def test_every_key_in_the_file_is_read_somewhere():
    messages = texts._messages()
    assert _unused(messages) == []
    stale = [prefix for prefix in DYNAMIC if not any(key.startswith(prefix) for key in messages)]
    assert stale == []


def test_the_unused_key_check_finds_a_leftover():
    """Not vacuous: a usage text the derived usage replaced, or a made-up key, is reported; keys read by a
    literal, an f-string head or a listed dynamic prefix are not."""
    keys = ["theme_day.usage_cancel", "points.nothing_reads_this", "points.mine_band", "tickets.filed_problem",
            "labels.role.member", "points.rules.manual"]
    assert _unused(keys) == ["theme_day.usage_cancel", "points.nothing_reads_this"]


def _placeholders(template: str) -> set[str]:
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template) if field}


def test_the_scan_finds_the_calls():
    found = list(_calls())
    assert len(found) > 300
    assert any(key == "points.mine_band" for _, key, _, _ in found)


def test_every_literal_key_exists_and_its_placeholders_are_filled():
    messages = texts._messages()
    problems = []
    for where, key, is_prefix, names in _calls():
        if is_prefix:
            if not any(k.startswith(key) for k in messages):
                problems.append(f"{where}: no key starts with {key!r}")
            continue
        if key not in messages:
            problems.append(f"{where}: unknown key {key!r}")
            continue
        if names is None:
            continue
        wanted = _placeholders(messages[key])
        if wanted - names:
            problems.append(f"{where}: {key} needs {sorted(wanted - names)}")
        if names - wanted:
            problems.append(f"{where}: {key} has no placeholder for {sorted(names - wanted)}")
    assert problems == []


def test_label_helpers_read_the_one_set_of_labels():
    assert texts.label("member_type", "frail") == "老弱病残"
    assert texts.label("role", "committee") == "党委委员"
    assert texts.label("delivery_status", "folded") == "并入摘要"
    assert texts.label("ticket_status", "nope") == "nope"
    assert texts.period_words("2026-H2") == "2026 年下半年"
    assert texts.period_words("2027-H1") == "2027 年上半年"
    assert texts.period_words("2026") == "2026"
    assert [texts.band_words(b) for b in "ABCD"] == ["第一档", "第二档", "第三档", "第四档"]


def test_every_enum_value_has_one_label():
    from bot.enums import DeliveryStatus, MemberType, Role, ThemeDayStatus, TicketStatus

    for kind, enum in (("role", Role), ("member_type", MemberType), ("delivery_status", DeliveryStatus),
                       ("ticket_status", TicketStatus), ("theme_day_status", ThemeDayStatus)):
        assert list(texts.labels(kind)) == [v.value for v in enum], kind
