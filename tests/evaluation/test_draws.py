"""The 双随机 draw algorithm: deterministic from the seed, per-grade counts from the tier ratios."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.evaluation import draws

TIERS = {"A": draws.Tier("信用良好", 0.03, 1), "B": draws.Tier("一般监管", 0.05, 1),
         "C": draws.Tier("重点关注", 0.10, 2), "D": draws.Tier("重点监管", 0.30, 4)}
DEFAULT = draws.Tier("一般监管", 0.05, 1)
GRADES = [*TIERS, None]

ratios = st.sampled_from([0, 0.001, 0.03, 0.05, 0.1, 0.25, 0.3, 0.5, 0.999, 1])
tier_schemes = st.tuples(st.fixed_dictionaries({g: st.builds(draws.Tier, st.just(f"类别{g}"), ratios, st.integers(0, 12))
                                                for g in TIERS}),
                         st.builds(draws.Tier, st.just("未评价类别"), ratios, st.integers(0, 12)))
populations = st.dictionaries(st.integers(1, 10**7), st.sampled_from(GRADES), max_size=400).map(
    lambda graded: sorted(graded.items()))
seeds = st.integers(0, draws.SEED_LIMIT - 1)


@given(populations, tier_schemes, seeds)
def test_the_same_inputs_and_seed_give_the_same_picks(population: list[tuple[int, str | None]],
                                                       scheme: tuple[dict[str, draws.Tier], draws.Tier], seed: int) -> None:
    tiers, default = scheme
    first = draws.draw(population, tiers, default, seed)
    shuffled = population[:]
    random.Random(seed).shuffle(shuffled)
    assert draws.draw(shuffled, tiers, default, seed) == first  # input order does not matter either
    assert draws.population_digest(shuffled) == draws.population_digest(population)


@given(populations, tier_schemes, seeds)
def test_each_grade_gets_its_ratio_of_its_subjects(population: list[tuple[int, str | None]],
                                                   scheme: tuple[dict[str, draws.Tier], draws.Tier], seed: int) -> None:
    tiers, default = scheme
    result = draws.draw(population, tiers, default, seed)
    members = Counter(grade for _id, grade in population)
    grade_of = dict(population)
    assert [s.grade for s in result.strata] == [*tiers, None]  # in the order of the scheme, ungraded last
    for stratum in result.strata:
        tier = tiers[stratum.grade] if stratum.grade is not None else default
        count = members[stratum.grade]
        assert (stratum.tier, stratum.population) == (tier, count)
        if count == 0 or tier.ratio == 0:
            assert stratum.sample == 0
        else:  # ratio × count rounded, but at least one
            assert 1 <= stratum.sample <= count
            assert abs(stratum.sample - tier.ratio * count) <= 0.5 + 1e-9 or stratum.sample == 1
        picked = [p for p in result.picks if p.grade == stratum.grade]
        assert len(picked) == stratum.sample and all(p.tier == tier for p in picked)
    ids = [p.subject_id for p in result.picks]
    assert len(ids) == len(set(ids)) and all(grade_of[p.subject_id] == p.grade for p in result.picks)
    assert [p.position for p in result.picks] == list(range(1, len(ids) + 1))


@given(st.lists(seeds, min_size=2, max_size=2, unique=True))
def test_different_seeds_pick_differently(pair: list[int]) -> None:
    population = [(subject_id, "D") for subject_id in range(1, 201)]  # 60 of 200: equal picks are practically impossible
    first, second = (draws.draw(population, TIERS, DEFAULT, seed) for seed in pair)
    assert {p.subject_id for p in first.picks} != {p.subject_id for p in second.picks}


@given(seeds, st.integers(1, 50))
def test_grades_are_drawn_independently(seed: int, added: int) -> None:
    """Subjects added to grade A do not change who is drawn from grade D."""
    population = [(i, "A" if i % 3 else "D") for i in range(1, 301)]
    more = population + [(1000 + i, "A") for i in range(added)]
    def picks_in_d(rows: list[tuple[int, str | None]]) -> list[int]:
        return [p.subject_id for p in draws.draw(rows, TIERS, DEFAULT, seed).picks if p.grade == "D"]

    assert picks_in_d(population) == picks_in_d(more)


def test_a_known_seed_gives_a_known_list() -> None:
    """Pinned: a change to the algorithm would make recorded draws unverifiable."""
    population = [(i, "ABCD"[i % 4]) for i in range(1, 101)] + [(i, None) for i in range(101, 121)]
    result = draws.draw(population, TIERS, DEFAULT, 20260615)
    assert [(s.grade, s.population, s.sample) for s in result.strata] == [
        ("A", 25, 1), ("B", 25, 1), ("C", 25, 3), ("D", 25, 8), (None, 20, 1)]
    assert [p.subject_id for p in result.picks] == PINNED


PINNED = [28, 21, 10, 98, 6, 75, 31, 7, 51, 95, 47, 23, 59, 112]


def test_sample_sizes_round_half_up_with_at_least_one() -> None:
    assert draws.sample_size(0, 0.3) == 0
    assert draws.sample_size(10, 0) == 0
    assert draws.sample_size(1, 0.03) == 1  # someone to inspect at a positive ratio: at least one
    assert draws.sample_size(50, 0.03) == 2  # 1.5 rounds up
    assert draws.sample_size(10, 0.25) == 3  # 2.5 rounds up (not to even)
    assert draws.sample_size(7, 1) == 7


def test_a_grade_without_a_tier_is_an_error() -> None:
    with pytest.raises(ValueError, match="no supervision tier"):
        draws.draw([(1, "E")], TIERS, DEFAULT, 1)
    with pytest.raises(ValueError, match="twice"):
        draws.draw([(1, "A"), (1, "A")], TIERS, DEFAULT, 1)
