"""Cross-border controls: items 不得出境 never reach a foreign institution; 需出境评估 items (and
registration, lists, grades, reports) only with the authority's approved review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.grants.support import ADMIN, FOREIGN_BANK_CODE, Stage, grant
from tests.support.world import BANK_CODE, SUBJECT_CODE
from xinyong import clock
from xinyong.catalogue import service as catalogue
from xinyong.errors import Forbidden, Invalid
from xinyong.grants import service
from xinyong.grants.service import GrantRefused


def approve(stage: Stage, item: str, approved: bool = True, **extra: object) -> None:
    service.record_review(stage.session, ADMIN, institution_code=FOREIGN_BANK_CODE, scope_item=item, approved=approved,
                          reference="苏网信出境评〔2026〕8号", **extra)  # type: ignore[arg-type]
    stage.session.commit()


def mark(stage: Stage, code: str, value: str) -> None:
    spec = catalogue.spec_of(catalogue.get_item(stage.session, code))
    catalogue.revise_item(stage.session, ADMIN, code, spec.model_copy(update={"cross_border": value}), "调整出境属性")
    stage.session.commit()


def test_the_seed_marks_personal_items_domestic_only(stage: Stage) -> None:
    assert service.cross_border_class(stage.session, "item:PROFESSIONAL_QUALIFICATION") == "不得出境"
    assert service.cross_border_class(stage.session, "item:ADM_PENALTY") == "需出境评估"
    for item in ("registration", "lists", "grade:PUBLIC_CREDIT_ORG", "report"):
        assert service.cross_border_class(stage.session, item) == "需出境评估"


def test_a_foreign_institution_is_never_granted_domestic_only_items(stage: Stage) -> None:
    approve(stage, "registration")
    with pytest.raises(Invalid) as caught:
        grant(stage, ["registration", "item:PROFESSIONAL_QUALIFICATION"], institution=FOREIGN_BANK_CODE)
    assert caught.value.code == "GRANT_CROSS_BORDER_FORBIDDEN" and "职称和职业资格信息" in caught.value.message
    assert grant(stage, ["item:PROFESSIONAL_QUALIFICATION"]).scope == ["item:PROFESSIONAL_QUALIFICATION"]  # domestic bank
    with pytest.raises(Invalid) as caught:  # and no review can open it
        approve(stage, "item:PROFESSIONAL_QUALIFICATION")
    assert caught.value.code == "GRANT_CROSS_BORDER_FORBIDDEN"


@pytest.mark.parametrize("item", ["registration", "lists", "grade:PUBLIC_CREDIT_ORG", "report", "item:ADM_PENALTY"])
def test_review_items_need_an_approved_review(stage: Stage, item: str) -> None:
    stage.session.rollback()
    with pytest.raises(Invalid) as caught:
        grant(stage, [item], institution=FOREIGN_BANK_CODE)
    assert caught.value.code == "GRANT_CROSS_BORDER_REVIEW_REQUIRED"
    stage.session.rollback()
    approve(stage, item, approved=False)
    with pytest.raises(Invalid):
        grant(stage, [item], institution=FOREIGN_BANK_CODE)
    stage.session.rollback()
    approve(stage, item)
    assert grant(stage, [item], institution=FOREIGN_BANK_CODE).scope == [item]


def test_an_allowed_item_needs_no_review(stage: Stage) -> None:
    mark(stage, "ADM_PENALTY", "可出境")
    made = grant(stage, ["item:ADM_PENALTY"], institution=FOREIGN_BANK_CODE)
    profile = service.authorised_profile(stage.session, stage.foreign_bank, SUBJECT_CODE, made.number)
    assert list(profile["items"]) == ["ADM_PENALTY"]


def test_queries_are_checked_again(stage: Stage) -> None:
    approve(stage, "registration")
    approve(stage, "item:ADM_PENALTY")
    made = grant(stage, ["registration", "item:ADM_PENALTY"], institution=FOREIGN_BANK_CODE)
    assert set(service.authorised_profile(stage.session, stage.foreign_bank, SUBJECT_CODE, made.number)) == {
        "registration", "items"}
    approve(stage, "registration", approved=False)  # the review is withdrawn
    with pytest.raises(GrantRefused) as caught:
        service.authorised_profile(stage.session, stage.foreign_bank, SUBJECT_CODE, made.number)
    assert caught.value.code == "GRANT_CROSS_BORDER_REVIEW_REQUIRED"
    stage.session.commit()
    assert set(service.authorised_profile(stage.session, stage.foreign_bank, SUBJECT_CODE, made.number,
                                          sections=["item:ADM_PENALTY"])) == {"items"}
    mark(stage, "ADM_PENALTY", "不得出境")  # the catalogue changes after the grant
    with pytest.raises(GrantRefused) as caught:
        service.require_grant(stage.session, stage.foreign_bank, stage.world.subject_id, "item:ADM_PENALTY")
    assert caught.value.code == "GRANT_CROSS_BORDER_FORBIDDEN"


def test_a_review_expires(stage: Stage) -> None:
    approve(stage, "lists", valid_until=clock.today() + timedelta(days=10))
    made = grant(stage, ["lists"], institution=FOREIGN_BANK_CODE, days=30)
    assert service.require_grant(stage.session, stage.foreign_bank, stage.world.subject_id, "lists")
    stage.session.commit()
    clock.advance(timedelta(days=11))
    with pytest.raises(GrantRefused) as caught:
        service.require_grant(stage.session, stage.foreign_bank, stage.world.subject_id, "lists", made.number)
    assert caught.value.code == "GRANT_CROSS_BORDER_REVIEW_REQUIRED"


def test_reviews_are_for_the_authority_and_foreign_institutions(stage: Stage) -> None:
    with pytest.raises(Forbidden):
        service.record_review(stage.session, stage.subject, institution_code=FOREIGN_BANK_CODE, scope_item="lists",
                              approved=True, reference="某文号")
    for changes, code in [({"institution_code": BANK_CODE}, "GRANT_REVIEW_NOT_FOREIGN"),
                          ({"institution_code": "X"}, "GRANT_INSTITUTION_UNKNOWN"),
                          ({"scope_item": "item:NOPE"}, "GRANT_SCOPE_UNKNOWN"),
                          ({"reference": " "}, "GRANT_REVIEW_REFERENCE_REQUIRED")]:
        arguments = {"institution_code": FOREIGN_BANK_CODE, "scope_item": "lists", "approved": True,
                     "reference": "某文号", **changes}
        with pytest.raises(Invalid) as caught:
            service.record_review(stage.session, ADMIN, **arguments)  # type: ignore[arg-type]
        assert caught.value.code == code


def test_catalogue_refuses_personal_items_marked_allowed(stage: Stage) -> None:
    spec = catalogue.spec_of(catalogue.get_item(stage.session, "PROFESSIONAL_QUALIFICATION"))
    with pytest.raises(Invalid) as caught:
        catalogue.revise_item(stage.session, ADMIN, "PROFESSIONAL_QUALIFICATION",
                              spec.model_copy(update={"cross_border": "可出境"}), "试图放开")
    assert caught.value.field == "cross_border"


def test_the_cross_border_pages(stage: Stage, client_for: Callable[[str], TestClient]) -> None:
    client = client_for("authority_admin")
    page = client.get("/grants/cross-border")
    assert page.status_code == 200 and "环球银行南京分行" in page.text
    recorded = client.post("/grants/cross-border", data={"institution_code": FOREIGN_BANK_CODE, "scope_item": "lists",
                                                         "approved": "yes", "reference": "苏网信出境评〔2026〕9号"},
                           follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    refused = client.post("/grants/cross-border", data={"institution_code": BANK_CODE, "scope_item": "lists",
                                                        "approved": "yes", "reference": "苏网信出境评〔2026〕9号"})
    assert refused.status_code == 422 and "GRANT_REVIEW_NOT_FOREIGN" in refused.text
    reviews = client.get("/api/v1/grants/cross-border").json()
    assert [(r["scope_item"], r["approved"]) for r in reviews] == [("lists", True)]
    created = client.post("/api/v1/grants/cross-border", json={"institution_code": FOREIGN_BANK_CODE,
                                                               "scope_item": "registration", "approved": False,
                                                               "reference": "苏网信出境评〔2026〕10号"})
    assert created.status_code == 201 and created.json()["approved"] is False
    edit = client.get("/catalogue/ADM_PENALTY/edit")
    assert edit.status_code == 200 and 'name="cross_border"' in edit.text
    assert "出境属性" in client.get("/catalogue/PROFESSIONAL_QUALIFICATION").text
