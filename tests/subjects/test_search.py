"""Public subject search: same answers on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm), best first."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session
from stdnum.cn import ric

from xinyong.actor import Actor
from xinyong.errors import Invalid
from xinyong.subjects import search, uscc
from xinyong.subjects import service as subjects
from xinyong.subjects.schemas import OrganisationIn

NAMES = [
    "南京华为电子有限公司", "华为技术有限公司", "华为", "华美达酒店管理有限公司", "中华为民服务中心",
    "华为技术有限公司南京研究所", "江苏苏宁易购集团股份有限公司", "苏宁", "ABC科技(南京)有限公司",
    "abc贸易商行", "南京百分之百_文化传媒有限公司", "南京%广告有限公司", "南京示范科技有限公司",
    "南京示范科技有限公司玄武分公司", "金陵饭店股份有限公司", "南京金陵制药厂", "华泰",
]
PEOPLE = ["华为民", "苏宁"]  # natural persons: never found by the public search


@dataclass
class Registry:
    """The organisations registered for a test, as stored (normalised name, code, initials)."""

    names: dict[int, str] = field(default_factory=dict)
    codes: dict[int, str] = field(default_factory=dict)
    initials: dict[int, str] = field(default_factory=dict)

    def reference(self, query: str) -> list[int]:
        """The documented ranking, computed in Python: code, exact, prefix (name order), contains, initials."""
        term = search.clean_query(query)
        code = term.upper()
        ids = sorted(self.names)
        names = self.names
        groups: list[list[int]] = [
            [i for i in ids if self.codes[i] == code] if len(code) == 18 else
            [i for i in ids if self.codes[i].startswith(code)] if search._CODE_PREFIX.match(code) else [],
            [i for i in ids if names[i] == term],
            sorted((i for i in ids if names[i].startswith(term)), key=lambda i: (names[i], i)),
            [i for i in ids if term.casefold() in names[i].casefold()] if len(term) >= 2 else [],
            [i for i in ids if self.initials[i].startswith(code)] if search._LETTERS.match(term) else [],
        ]
        ordered: dict[int, None] = {}
        for group in groups:
            ordered.update(dict.fromkeys(group))
        return list(ordered)


def citizen_id(serial: int) -> str:
    first17 = f"11010519491231{serial:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


@pytest.fixture
def registry(seeded: Session) -> Registry:
    found = Registry()
    actor = Actor.system()
    for index, name in enumerate(NAMES):
        code = uscc.build("9", "1", "320102", f"MA1X{index:04d}")
        subject = subjects.register_organisation(seeded, actor, OrganisationIn(uscc=code, name=name))
        found.names[subject.id], found.codes[subject.id] = subject.normalised_name, subject.uscc or ""
        found.initials[subject.id] = subject.name_initials
    for index, name in enumerate(PEOPLE):
        subjects.register_person(seeded, actor, citizen_id(index), name, b"k")
    seeded.commit()
    return found


QUERIES = ["华为", "华为技术", "为技术有限", "华", "苏宁", "有限公司", "南京示范科技有限公司", "示范科技有限公司玄武",
           "ABC", "abc", "HWJS", "hw", "JLFD", "%", "_", "百分之百_", "南京%", "(南京)", "（南京）", "京华",
           "91320102", "9132010", "不存在的名称", "a", "华为民"]


@pytest.mark.parametrize("query", QUERIES)
def test_results_follow_the_documented_ranking_on_both_databases(registry: Registry, seeded: Session,
                                                                 query: str) -> None:
    assert search.find(seeded, query).ids == registry.reference(query)


def test_a_full_code_finds_exactly_its_subject(registry: Registry, seeded: Session) -> None:
    subject_id, code = next(iter(registry.codes.items()))
    assert search.find(seeded, code.lower()).ids == [subject_id]


def test_two_character_queries_use_the_index(registry: Registry, seeded: Session) -> None:
    """Not a scan: the two-character look-up goes through the trigram index on both databases."""
    found = search.find(seeded, "华为").ids
    assert [registry.names[i] for i in found] == ["华为", "华为技术有限公司", "华为技术有限公司南京研究所",
                                            "南京华为电子有限公司", "中华为民服务中心"]
    if seeded.get_bind().dialect.name == "sqlite":
        hits = seeded.execute(text("SELECT count(*) FROM subject_search WHERE subject_search MATCH :m"),
                              {"m": 'search_pairs : "华为|"'}).scalar()
        assert hits == 5
    else:
        seeded.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(seeded.execute(text("EXPLAIN SELECT id FROM subjects WHERE search_pairs ILIKE '%华为|%'"))
                         .scalars())
        assert "ix_subjects_search_pairs_trgm" in plan


def test_renaming_keeps_the_index_in_step(registry: Registry, seeded: Session) -> None:
    subject_id = next(i for i, n in registry.names.items() if n == "金陵饭店股份有限公司")
    subject = subjects.get(seeded, subject_id)
    for column, value in subjects.name_columns("钟山宾馆股份有限公司").items():
        setattr(subject, column, value)
    seeded.commit()
    assert search.find(seeded, "金陵饭店").ids == []
    assert search.find(seeded, "钟山").ids == [subject_id]


def test_more_than_the_cap_says_so(seeded: Session, monkeypatch: pytest.MonkeyPatch,
                                   registry: Registry) -> None:
    monkeypatch.setattr(search, "RESULT_CAP", 3)
    match = search.find(seeded, "有限公司")
    assert match.capped and len(match.ids) == 3


@pytest.mark.parametrize(("query", "code"), [("", "SEARCH_QUERY_EMPTY"), ("  \t", "SEARCH_QUERY_EMPTY"),
                                             ("\x00\x07", "SEARCH_QUERY_EMPTY"), ("长" * 61, "SEARCH_QUERY_TOO_LONG")])
def test_unusable_queries_are_refused_with_a_code(query: str, code: str) -> None:
    with pytest.raises(Invalid) as refused:
        search.clean_query(query)
    assert refused.value.code == code


# --- the pairs that make two-character queries index look-ups -------------------------------------------

names_strategy = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=0, max_size=30)


@given(names_strategy, st.data())
def test_every_two_character_piece_of_a_name_is_a_pair(name: str, data: st.DataObject) -> None:
    pairs = search.name_pairs(name)
    clean = name.replace(search.PAIR_SEPARATOR, "")
    if len(clean) >= 2:
        start = data.draw(st.integers(0, len(clean) - 2))
        assert clean[start:start + 2] + search.PAIR_SEPARATOR in pairs


@given(names_strategy, st.text(min_size=2, max_size=2).filter(lambda q: search.PAIR_SEPARATOR not in q))
def test_a_pair_is_found_only_if_the_name_contains_it(name: str, query: str) -> None:
    clean = name.replace(search.PAIR_SEPARATOR, "")
    assert (query + search.PAIR_SEPARATOR in search.name_pairs(name)) == (query in clean)


def test_any_query_is_answered_or_refused_with_a_code(registry: Registry, seeded: Session) -> None:
    """Random strings of FTS5 / LIKE / SQL syntax: a result or a coded refusal, never a database error."""
    rng = random.Random(20261127)
    alphabet = "\"'*:^()-+%_\\|{}[]NEAR AND OR NOT 华为a1\x00\u200b"
    for _ in range(400):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        try:
            found = search.find(seeded, query).ids
        except Invalid as refused:
            assert refused.code.startswith("SEARCH_QUERY_")
        else:
            assert set(found) <= set(registry.names)


@pytest.mark.parametrize("probe", [0, 2, 1000])
def test_common_and_rare_terms_rank_the_same(registry: Registry, seeded: Session, monkeypatch: pytest.MonkeyPatch,
                                             probe: int) -> None:
    """PostgreSQL switches plans by how common a term is (``PROBE``); the answer must not change."""
    monkeypatch.setattr(search, "PROBE", probe)
    for query in ("有限公司", "华为", "南京", "技术有限"):
        assert search.find(seeded, query).ids == registry.reference(query), query
