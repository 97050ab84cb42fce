"""Credit repair in a real browser: a company applies with two uploaded PDFs, the credit authority takes the
application in, the market-regulation department that made the finding approves, and the public subject page
no longer shows the penalty. The new pages pass axe (WCAG 2 A/AA) and every control has a name.

Seed (per test, on the worker's live server, clock frozen on 2026-06-15): a company of its own — so the world's
subject and its penalty, which other browser tests read, stay as they are — with an account (subject_user),
a 一般 administrative penalty decided 2026-01-05 by the world's market-regulation department (scjg) and a second
penalty to object to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser import assert_accessible, unlabelled_controls
from tests.browser.conftest import LiveServer
from tests.browser.test_sanctions import checked, log_in  # noqa: F401  (checked: a fixture)
from tests.support.world import DEPARTMENT_CODE, PASSWORD
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import uscc

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI)
CODE = uscc.build("9", "1", "320102", "MA1XF0R1")
COMPANY = "南京修复示范商贸有限公司"
NUMBER = "宁玄市监处罚〔2026〕88号"
OTHER_NUMBER = "宁玄市监处罚〔2026〕89号"
ACCOUNT = "xf_qiye"
AUTHORITY = "南京市玄武区市场监督管理局"


@dataclass(frozen=True)
class Company:
    record_id: int
    other_id: int


def _penalty(number: str, fine: str) -> dict[str, str]:
    return {"CF_WSH": number, "CF_WFXW": "虚假宣传", "CF_SY": "在门店宣传材料中虚构产品获奖情况",
            "CF_YJ": "《中华人民共和国反不正当竞争法》第二十条", "CF_CFLB": "罚款", "CF_NR": f"罚款{fine}万元",
            "CF_NR_FK": fine, "CF_JDRQ": "2026-01-05", "CF_CFJG": AUTHORITY, "CF_CFJGDM": DEPARTMENT_CODE,
            "CF_SJLY": AUTHORITY, "CF_SJLYDM": DEPARTMENT_CODE}


@pytest.fixture
def company(live_server: LiveServer) -> Company:
    clock.freeze(NOW)  # the server runs in this process: its clock stops too (reset after the test)
    with live_server.session() as session:
        market = next(u for u in access.users(session) if u.username == live_server.world.usernames["department_submitter"])
        ids = []
        for number, fine in ((NUMBER, "3"), (OTHER_NUMBER, "1")):
            ids.append(records.submit(session, access.actor_for(market), "ADM_PENALTY", SubjectRef(uscc=CODE, name=COMPANY),
                                      _penalty(number, fine), department_id=live_server.world.department_id,
                                      department_code=DEPARTMENT_CODE).record)
        access.create_user(session, Actor.system(), access.NewUser(ACCOUNT, PASSWORD, "subject_user", COMPANY,
                                                                   subject_id=ids[0].subject_id))
        session.commit()
        return Company(ids[0].id, ids[1].id)


def accessible(page: Page) -> None:
    assert unlabelled_controls(page) == [], page.url
    assert_accessible(page)


def test_a_company_applies_the_authority_accepts_the_department_approves_and_the_penalty_leaves_the_public_page(
        page: Page, new_context: Callable[..., BrowserContext], live_server: LiveServer, company: Company,
        tmp_path: Path, checked: None) -> None:  # noqa: F811
    letter, receipt = tmp_path / "信用修复承诺书.pdf", tmp_path / "罚款缴纳凭证.pdf"
    letter.write_bytes(b"%PDF-1.7\n% commitment letter\n")
    receipt.write_bytes(b"%PDF-1.7\n% receipt of the fine\n")
    public = new_context().new_page()
    public.goto(f"/credit/{CODE}")
    expect(public.get_by_text(NUMBER).first).to_be_visible()

    # The company: from its credit page to the form, which says it may apply; two PDFs uploaded.
    log_in(page, ACCOUNT)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的信用").click()
    page.locator(f"a[href='/me/repairs/new?record_id={company.record_id}']").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申请信用修复")
    expect(page.get_by_text("可以申请")).to_be_visible()
    accessible(page)
    page.get_by_label("整改情况及申请理由").fill("已足额缴纳罚款，撤下全部违规宣传材料，建立宣传内容审核制度")
    page.get_by_label("本主体已履行行政处罚等法定责任和义务").check()
    page.get_by_label("信用修复承诺书").set_input_files(letter)
    page.get_by_label("履行法定义务证明").set_input_files(receipt)
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/me/repairs/\d+\?done=submitted$"))
    expect(page.get_by_role("status")).to_contain_text("申请已提交")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已提交，待受理")
    expect(page.get_by_role("link", name="信用修复承诺书.pdf")).to_be_visible()
    expect(page.get_by_role("link", name="罚款缴纳凭证.pdf")).to_be_visible()
    accessible(page)
    application_url = page.url.split("?")[0]
    number = page.locator("h1 code").inner_text()
    download = page.request.get(page.get_by_role("link", name="信用修复承诺书.pdf").get_attribute("href") or "")
    assert download.ok and download.body() == letter.read_bytes()

    # The credit authority takes it in.
    admin = new_context().new_page()
    log_in(admin, live_server.world.usernames["authority_admin"])
    admin.get_by_role("navigation", name="主导航").get_by_role("link", name="信用修复").click()
    accessible(admin)
    admin.get_by_role("link", name=number).click()
    accessible(admin)
    admin.get_by_label("受理意见（可选）").fill("材料齐全，予以受理")
    admin.get_by_role("button", name="受理", exact=True).click()
    expect(admin.get_by_role("status")).to_contain_text("已受理")
    expect(admin.get_by_role("heading", level=1)).to_contain_text("已受理，审核中")

    # The department that imposed the penalty approves (谁认定、谁修复).
    market = new_context().new_page()
    log_in(market, live_server.world.usernames["department_submitter"])
    market.get_by_role("navigation", name="主导航").get_by_role("link", name="信用修复").click()
    market.get_by_role("link", name=number).click()
    accessible(market)
    market.get_by_label("审核意见（可选）").fill("整改到位，同意修复")
    market.get_by_role("button", name="同意修复").click()
    expect(market.get_by_role("status")).to_contain_text("已同意修复")

    # Gone from the public page at once; the company sees the outcome.
    public.reload()
    expect(public.get_by_role("heading", level=1)).to_contain_text(COMPANY)
    expect(public.get_by_text(NUMBER)).to_have_count(0)
    expect(public.get_by_text(OTHER_NUMBER).first).to_be_visible()  # the other penalty is still published
    page.goto(application_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("同意修复")
    expect(page.get_by_text("整改到位，同意修复").first).to_be_visible()
    accessible(page)

    # An objection to the other penalty: the company's form and list, the department's answer form.
    page.goto(f"/me/objections/new?record_id={company.other_id}")
    accessible(page)
    page.get_by_label("异议理由").fill("处罚决定书载明罚款1万元，但违法行为描述与实际不符")
    page.get_by_role("button", name="提出异议").click()
    expect(page.get_by_role("status")).to_contain_text("异议已提交")
    accessible(page)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的异议").click()
    accessible(page)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的修复申请").click()
    accessible(page)
    public.reload()
    expect(public.get_by_text("异议处理中").first).to_be_visible()
    market.get_by_role("navigation", name="主导航").get_by_role("link", name="异议处理").click()
    accessible(market)
    market.get_by_role("link", name=re.compile(r"^XYYY")).first.click()
    expect(market.get_by_role("heading", name="答复异议")).to_be_visible()
    accessible(market)
    for path in ("/repairs/dashboard", "/objections/new"):
        admin.goto(path)
        accessible(admin)
