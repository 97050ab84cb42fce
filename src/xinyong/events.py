"""What other contexts derive from new facts: a tiny in-process message bus.

The records context stores facts and announces them here, in the same transaction; the handlers
below keep their derived state in step (a crash rolls both back). Handlers are named in one place so
the records context does not import the contexts that follow it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Fact = Mapping[str, Any]  # id, subject_id, department_id, item_code, kind, supersedes_id, payload, decision_date


def facts_stored(session: Any, facts: Sequence[Fact]) -> None:
    """New records (originals, corrections, revocations) were stored in ``session``'s transaction."""
    if not facts:
        return
    from xinyong.sanctions import service as sanctions  # lists that follow catalogue items

    sanctions.absorb_facts(session, facts)
