"""双随机 draws: which subjects of a population are inspected, decided by a seed (pure, no database).

Every grade of the scheme is a stratum with its supervision tier's inspection ratio; subjects
without a grade in the run (not evaluated) form one more stratum under the default tier. From a
stratum of ``n`` subjects, ``sample_size(n, ratio)`` are picked — ``ratio × n`` rounded half up, at
least one when ``n > 0`` and ``ratio > 0`` — by ``random.Random`` seeded with the draw's seed and
the stratum's grade, sampling over the stratum's subject ids in ascending order.

Identical population, scheme and seed give identical picks; the strata are drawn independently, so
subjects added to one grade do not change the picks in another.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

SEED_LIMIT = 2**53  # seeds are below this: exact in JSON numbers and JavaScript


@dataclass(frozen=True)
class Tier:
    """A supervision tier (监管类别) as a grade maps to it."""

    name: str
    ratio: float  # share of the grade's subjects inspected per draw, 0..1
    frequency: int  # inspections per year


@dataclass(frozen=True)
class Stratum:
    grade: str | None  # None: subjects not evaluated in the run
    tier: Tier
    population: int
    sample: int


@dataclass(frozen=True)
class Pick:
    position: int  # 1-based order on the inspection list
    subject_id: int
    grade: str | None
    tier: Tier


@dataclass(frozen=True)
class Result:
    strata: list[Stratum]
    picks: list[Pick]


def sample_size(count: int, ratio: float) -> int:
    """``ratio × count`` rounded half up; at least 1 when there is anyone to inspect at a positive ratio."""
    if count <= 0 or ratio <= 0:
        return 0
    size = int((Decimal(str(ratio)) * count).to_integral_value(ROUND_HALF_UP))
    return min(count, max(1, size))


def _rng(seed: int, grade: str | None) -> random.Random:
    # A string seed is hashed with SHA-512 (``random`` seeding version 2): the same on every platform
    # and Python process, independent of PYTHONHASHSEED.
    return random.Random(f"{seed}:{grade if grade is not None else ''}")


def draw(population: Iterable[tuple[int, str | None]], tiers: Mapping[str, Tier], default: Tier,
         seed: int) -> Result:
    """Pick the subjects to inspect. ``population``: (subject id, grade or None); ``tiers``: grade → tier.

    Strata come in the order of ``tiers``, the ungraded stratum last; within a stratum, picks are in
    the order drawn. A grade the scheme does not map is an error (the caller checks the run first).
    """
    members: dict[str | None, list[int]] = {grade: [] for grade in tiers}
    members[None] = []
    seen: set[int] = set()
    for subject_id, grade in population:
        if subject_id in seen:
            raise ValueError(f"subject {subject_id} appears twice in the population")
        seen.add(subject_id)
        if grade is not None and grade not in tiers:
            raise ValueError(f"grade {grade!r} has no supervision tier")
        members[grade].append(subject_id)
    strata, picks = [], []
    for grade, ids in members.items():
        tier = tiers[grade] if grade is not None else default
        ids.sort()
        size = sample_size(len(ids), tier.ratio)
        strata.append(Stratum(grade, tier, len(ids), size))
        for subject_id in _rng(seed, grade).sample(ids, size):
            picks.append(Pick(len(picks) + 1, subject_id, grade, tier))
    return Result(strata, picks)


def population_digest(population: Sequence[tuple[int, str | None]]) -> str:
    """SHA-256 of the population as drawn from (ids ascending, with grades): tells a changed population."""
    digest = hashlib.sha256()
    for subject_id, grade in sorted(population, key=lambda pair: pair[0]):
        digest.update(f"{subject_id}:{grade or ''}\n".encode())
    return digest.hexdigest()
