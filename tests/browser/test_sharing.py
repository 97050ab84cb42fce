"""Departmental sharing in a real browser: the trading centre looks a company up for 公共资源交易, is told
its tax credit grade needs a share request, files one; the credit authority approves it; the centre now
sees the grade; the company sees at 谁查看了我的信用信息 that the centre read it and why. The pages pass
axe (WCAG 2 A/AA) and every control has a name.

Seed (per test, on the worker's live server, clock frozen on 2026-06-15): a company of its own with an
account, and a tax department of its own that provides the company's 纳税信用等级 (有条件共享).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser import assert_accessible, unlabelled_controls
from tests.browser.conftest import LiveServer
from tests.browser.test_sanctions import checked, log_in  # noqa: F401  (checked: a fixture)
from tests.support.world import PASSWORD
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import uscc

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI)
CODE = uscc.build("9", "1", "320102", "MA1GX0T1")
COMPANY = "南京共享示范建设有限公司"
ACCOUNT = "gx_qiye"
TAX = "南京市共享示范税务局"


@pytest.fixture
def company(live_server: LiveServer) -> None:
    clock.freeze(NOW)  # the server runs in this process: its clock stops too (reset after the test)
    with live_server.session() as session:
        tax = access.create_department(session, code=uscc.build("1", "1", "320100", "01400077"), name=TAX,
                                       short_name="共享示范税务局", region_code="320100", sector="税务")
        user = access.create_user(session, Actor.system(), access.NewUser("gx_tax", PASSWORD, "department_submitter",
                                                                          TAX, department_id=tax.id))
        stored = records.submit(session, access.actor_for(user), "TAX_CREDIT", SubjectRef(uscc=CODE, name=COMPANY),
                                {"PJND": 2025, "NSXYDJ": "A", "PDRQ": "2026-04-20"}, department_id=tax.id,
                                department_code=tax.code)
        access.create_user(session, Actor.system(), access.NewUser(ACCOUNT, PASSWORD, "subject_user", COMPANY,
                                                                   subject_id=stored.record.subject_id))
        session.commit()


def accessible(page: Page) -> None:
    assert unlabelled_controls(page) == [], page.url
    assert_accessible(page)


def test_a_department_asks_to_share_the_authority_approves_and_the_company_sees_who_read_it(
        page: Page, new_context: Callable[..., BrowserContext], live_server: LiveServer, company: None,
        checked: None) -> None:  # noqa: F811
    # The trading centre looks the company up for 公共资源交易: the tax credit grade needs a request.
    log_in(page, live_server.world.usernames["applying_department"])
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="信息共享").click()
    accessible(page)
    page.get_by_label("统一社会信用代码").fill(CODE)
    page.get_by_label("用途").first.select_option("公共资源交易")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY)
    tax_section = page.locator("#item-TAX_CREDIT")
    expect(tax_section).to_contain_text("需申请共享")
    expect(tax_section.get_by_role("table")).to_have_count(0)
    accessible(page)

    # It files a request for that item and purpose.
    tax_section.get_by_role("link", name="申请共享").click()
    expect(page.get_by_label("信息项")).to_have_value("TAX_CREDIT")
    page.locator("#purpose").select_option("公共资源交易")
    page.get_by_label("履职依据（职责及其法律、法规或政策依据）").fill("《招标投标法实施条例》：对投标人开展信用核查")
    page.get_by_label("申请期限（月）").fill("6")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("status")).to_contain_text("共享申请已提交")
    expect(page.get_by_role("table").get_by_text("待审核")).to_be_visible()

    # The credit authority approves it.
    admin = new_context().new_page()
    log_in(admin, live_server.world.usernames["authority_admin"])
    admin.get_by_role("navigation", name="主导航").get_by_role("link", name="信息共享").click()
    accessible(admin)
    form = admin.locator("form[action$='/decision']").first
    form.get_by_label("审核意见（不予批准须说明理由）").fill("履职依据充分，同意")
    form.get_by_role("button", name="批准", exact=True).click()
    expect(admin.get_by_role("status")).to_contain_text("已批准共享申请")
    admin.get_by_role("navigation", name="主导航").get_by_role("link", name="共享概况").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("政务信息共享概况")
    accessible(admin)

    # The centre now sees the grade, on the basis of its approved request.
    page.goto(f"/sharing/subjects/{CODE}?purpose=公共资源交易")
    expect(page.locator("#item-TAX_CREDIT").get_by_role("table")).to_contain_text("有条件共享（已批准）")
    expect(page.locator("#item-TAX_CREDIT").get_by_role("table")).to_contain_text(TAX)

    # The company sees who read its non-public information, and why.
    owner = new_context().new_page()
    log_in(owner, ACCOUNT)
    owner.get_by_role("navigation", name="主导航").get_by_role("link", name="我的信用").click()
    owner.get_by_role("link", name="谁查看了我的信用信息").click()
    expect(owner).to_have_url(re.compile(r"/me/reads$"))
    row = owner.get_by_role("row").filter(has_text="南京市公共资源交易中心")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("公共资源交易")
    expect(row).to_contain_text("纳税信用等级")
    accessible(owner)
