"""Joint checks in a real browser: an applying department uploads its bidders, sees a punishment with its
legal basis, reports what it did, and the credit authority sees the feedback rate.

Seed (once per module, on the worker's live server): the evaluation models and the sanctions
configuration; market regulation (scjg) puts the world's company on 经营异常名录 by submitting a
LIST_ABNORMAL record, as departments do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser import BrowserLog, assert_accessible, unlabelled_controls
from tests.browser.conftest import LiveServer
from tests.sanctions.test_routes import BASIS, BIDDERS, RESTRICT, xlsx
from tests.support.world import DEPARTMENT_CODE, PASSWORD, SUBJECT_CODE
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.evaluation import service as evaluation
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.sanctions import service

SYSTEM = Actor.system()
APPLIER = "南京市公共资源交易中心"


@pytest.fixture(scope="module")
def listed(live_server: LiveServer) -> None:
    with live_server.session() as session:
        evaluation.seed(session, SYSTEM)
        service.seed(session, SYSTEM)
        market = next(u for u in access.users(session) if u.username == live_server.world.usernames["department_submitter"])
        records.submit(session, access.actor_for(market), "LIST_ABNORMAL", SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司"),
                       {"LRWH": "宁玄市监异〔2026〕31号", "LRYY": "未按规定报送年度报告", "LRRQ": "2026-03-10",
                        "ZCJG": "南京市玄武区市场监督管理局"}, department_id=live_server.world.department_id,
                       department_code=DEPARTMENT_CODE)
        session.commit()


@pytest.fixture
def checked(browser_log: BrowserLog, live_server: LiveServer) -> Iterator[None]:
    """After the test: nothing was fetched from another host and no script failed."""
    yield
    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.errors == []


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/me$"))


def answer_every_measure(page: Page) -> int:
    forms = page.locator("form[action$='/feedback']")
    total = forms.count()
    for index in range(total):
        form = page.locator("form[action$='/feedback']").nth(index)
        hit = form.locator("input[name=hit_id]").input_value()
        form.get_by_label("已采取").check()
        form.get_by_role("button", name="提交反馈").click()
        expect(page.locator(f"#hit-{hit}").get_by_role("button")).to_have_text("更新反馈")
        expect(page.get_by_role("status")).to_contain_text("反馈已保存")
    return total


def test_bidders_checked_from_a_file_feedback_given_and_the_rate_seen(
        page: Page, new_context: Callable[..., BrowserContext], live_server: LiveServer, listed: None, tmp_path: Path,
        checked: None) -> None:
    log_in(page, live_server.world.usernames["applying_department"])
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="奖惩核查").click()
    assert unlabelled_controls(page) == []
    assert_accessible(page)

    bidders = tmp_path / "投标人.xlsx"
    bidders.write_bytes(xlsx(BIDDERS))
    page.get_by_label("核查事项").select_option(label="招标投标")
    page.get_by_label("事项名称或编号").fill("宁招〔2026〕8号")
    page.get_by_label("批量：上传文件").set_input_files(bidders)
    page.get_by_role("button", name="核查").click()
    expect(page).to_have_url(re.compile(r"/sanctions/checks/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("招标投标")
    expect(page.get_by_text(RESTRICT).first).to_be_visible()
    expect(page.get_by_text(f"{BASIS}第十八条").first).to_be_visible()
    expect(page.get_by_text("主体库中无此主体").first).to_be_visible()
    assert unlabelled_controls(page) == []
    assert_accessible(page)
    assert answer_every_measure(page) >= 1
    expect(page.get_by_text("待反馈")).to_have_count(0)

    admin = new_context().new_page()
    log_in(admin, live_server.world.usernames["authority_admin"])
    admin.goto("/sanctions/feedback")
    expect(admin.get_by_role("row", name=re.compile(APPLIER))).to_contain_text("100.0%")
    assert_accessible(admin)
    for path in ("/sanctions", "/sanctions/lists/BUSINESS_ABNORMAL", "/sanctions/measures", "/sanctions/bases",
                 "/sanctions/checks", "/sanctions/measures/new"):
        admin.goto(path)
        assert unlabelled_controls(admin) == [], path
        assert_accessible(admin)


def test_the_public_measure_list_is_accessible(page: Page, listed: None, checked: None) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="奖惩措施").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("奖惩措施清单")
    expect(page.get_by_text("《中华人民共和国政府采购法》第二十二条、第七十七条")).to_be_visible()
    assert_accessible(page)
