"""Public subject search (信用主体查询): by name fragment, by 统一社会信用代码, by pinyin initials.

Substring search runs on a trigram index on both databases — SQLite FTS5's ``trigram`` tokenizer,
PostgreSQL's ``pg_trgm`` GIN index. A trigram index cannot answer a two-character query (there is
no three-character piece to look up), and two characters is what people type most: a company's
字号 (``华为``). So every organisation also carries ``search_pairs``, its name's character pairs each
followed by a separator (``华为技术`` → ``华为|为技|技术|``). The three-character term ``华为|`` is in
the trigram index exactly when ``华为`` occurs in the name, so two-character queries are index
look-ups as well. One-character queries match name prefixes only.

Ranking, identical on both databases (tested): exact code, exact name, name prefix (in name order,
binary collation on both databases), name contains, pinyin-initials prefix; ties by registration
order (id). Results are capped
at ``RESULT_CAP``: a query matching more asks the user to be more specific, like 信用中国 does.
Natural persons are never found by the public search.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, literal_column, select, table, text
from sqlalchemy.orm import Session

from xinyong.errors import Invalid
from xinyong.subjects.models import Subject

RESULT_CAP = 1000
PROBE = 20_000  # PostgreSQL: more trigram-index hits than this and a term counts as common
MAX_QUERY_LENGTH = 60
PAIR_SEPARATOR = "|"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_CODE = re.compile(r"^[0-9A-Z]{18}$")
_CODE_PREFIX = re.compile(r"^(?=.*\d)[0-9A-Z]{6,17}$")
_LETTERS = re.compile(r"^[A-Za-z]{2,}$")


def name_pairs(normalised_name: str) -> str:
    """The name's character pairs, each followed by the separator: what two-character queries hit."""
    name = normalised_name.replace(PAIR_SEPARATOR, "")
    return "".join(name[i:i + 2] + PAIR_SEPARATOR for i in range(len(name) - 1))


def clean_query(raw: str | None) -> str:
    """The query as it is matched: NFKC, no control characters, no spaces (names are stored so)."""
    text_ = _SPACES.sub("", _CONTROL.sub("", unicodedata.normalize("NFKC", raw or "")))
    text_ = text_.replace("[", "(").replace("]", ")")
    if not text_:
        raise Invalid("SEARCH_QUERY_EMPTY", "请输入主体名称、统一社会信用代码或拼音首字母", field="q")
    if len(text_) > MAX_QUERY_LENGTH:
        raise Invalid("SEARCH_QUERY_TOO_LONG", f"查询内容过长，最多{MAX_QUERY_LENGTH}个字符", field="q")
    return text_


@dataclass(frozen=True)
class Match:
    ids: list[int]
    capped: bool  # more than RESULT_CAP subjects match


Fetch = Callable[[int], list[int]]  # at most n ids of one ranking group, in the group's order


def find(session: Session, raw: str | None) -> Match:
    """Ids of the organisations matching the query, best first, at most ``RESULT_CAP``."""
    term = clean_query(raw)
    ordered: dict[int, None] = {}
    capped = False
    for fetch in _groups(session, term):
        for subject_id in fetch(RESULT_CAP + 1):
            ordered.setdefault(subject_id)
        if len(ordered) > RESULT_CAP:
            capped = True
            break
    return Match(list(ordered)[:RESULT_CAP], capped)


def _groups(session: Session, term: str) -> list[Fetch]:
    organisations = select(Subject.id).where(Subject.kind != "natural_person")
    code = term.upper()
    queries: list[Select[tuple[int]]] = []
    if _CODE.match(code):
        queries.append(organisations.where(Subject.uscc == code))
    elif _CODE_PREFIX.match(code):
        queries.append(organisations.where(*_prefix(Subject.uscc, code)).order_by(Subject.id))
    queries.append(organisations.where(Subject.normalised_name == term).order_by(Subject.id))
    # In name order: the name index answers it and stops at the cap however broad the prefix (南京).
    queries.append(organisations.where(*_prefix(Subject.normalised_name, term))
                   .order_by(Subject.normalised_name, Subject.id))
    groups: list[Fetch] = [_fetcher(session, query) for query in queries]
    if len(term) >= 2:
        groups.append(lambda limit: _contains(session, term, limit))
    if _LETTERS.match(term):
        groups.append(_fetcher(session, organisations.where(*_prefix(Subject.name_initials, code))
                               .order_by(Subject.id)))
    return groups


def _fetcher(session: Session, query: Select[tuple[int]]) -> Fetch:
    return lambda limit: list(session.scalars(query.limit(limit)))


def _prefix(column: ColumnElement[str] | object, prefix: str) -> list[ColumnElement[bool]]:
    """``column`` starts with ``prefix``, as a range the column's (binary-collated) index answers."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1) if ord(prefix[-1]) < 0x10FFFF else None
    conditions = [column >= prefix]  # type: ignore[operator]
    if upper is not None:
        conditions.append(column < upper)  # type: ignore[operator]
    return conditions


def _contains(session: Session, term: str, limit: int) -> list[int]:
    """Organisations whose name contains ``term`` (two characters or more), the first ``limit`` by id."""
    two = len(term) == 2
    needle = term + PAIR_SEPARATOR if two else term
    if session.get_bind().dialect.name == "sqlite":
        column = "search_pairs" if two else "normalised_name"
        match = f'{column} : "{needle.replace(chr(34), chr(34) * 2)}"'
        # FTS5 returns rowids in order, so LIMIT stops early however common the term. Natural
        # persons are never put in the FTS table (its triggers skip them).
        rowid = literal_column("rowid")
        query = (select(rowid).select_from(table("subject_search"))
                 .where(text("subject_search MATCH :match").bindparams(match=match)).order_by(rowid).limit(limit))
        return list(session.scalars(query))
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    column_ = Subject.search_pairs if two else Subject.normalised_name
    return _postgresql_contains(session, and_(column_.ilike(f"%{escaped}%", escape="\\"),
                                              Subject.kind != "natural_person"), limit)


def _postgresql_contains(session: Session, condition: ColumnElement[bool], limit: int) -> list[int]:
    """Rare terms through the pg_trgm index, common ones along the primary key.

    Left to itself the planner answers ``ORDER BY id LIMIT n`` by walking the primary key and
    filtering, which reads the whole table when the term is rare. So probe through the trigram
    index first (bitmap scans only): up to ``PROBE`` hits are sorted here; more means the term is
    common, and walking the primary key finds the first ``limit`` quickly.
    """
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_indexscan = off"))
    try:
        probe = list(session.scalars(select(Subject.id).where(condition).limit(PROBE + 1)))
    finally:
        session.execute(text("RESET enable_seqscan"))
        session.execute(text("RESET enable_indexscan"))
    if len(probe) <= PROBE:
        return sorted(probe)[:limit]
    return list(session.scalars(select(Subject.id).where(condition).order_by(Subject.id).limit(limit)))
