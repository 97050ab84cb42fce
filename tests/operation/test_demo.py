"""The demo's operator contract with releases, and its platform partner with an acknowledged delivery."""

from __future__ import annotations

from sqlalchemy.orm import Session

from xinyong import demo
from xinyong.operation import demo as operation_demo
from xinyong.operation import service as operation
from xinyong.partners import demo as partners_demo
from xinyong.partners import service as partners


def test_demo_activity(sanctioned: Session) -> None:
    demo.generate(sanctioned, subjects=200, seed=7)
    summary = operation_demo.activity(sanctioned)
    assert summary["contracts"] == 1 and summary["releases"] >= 2  # the grade product needs an evaluation run
    [contract] = operation.contracts(sanctioned)
    assert contract.status == "active" and contract.institution_name == demo.OPERATOR_NAME
    assert all(r.suppressed_cells <= r.cells for r in operation.releases(sanctioned))

    shared = partners_demo.activity(sanctioned)
    assert shared["partners"] == 1
    [partner] = partners.partners(sanctioned)
    assert partner.delivered_through == partner.acknowledged_through == shared["acknowledged_through"]
    assert partner.unacknowledged == 0 and partner.list_types
    again = operation_demo.activity(sanctioned)  # idempotent contract, more releases
    assert again["contracts"] == 1 and len(operation.contracts(sanctioned)) == 1
