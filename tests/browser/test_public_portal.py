"""The public portal in a real browser: search, a subject's page, 双公示 lists, publication ending by itself.

Seed (once per module, on the worker's live server): a district market-regulation department that
submits an administrative penalty (一般失信: published for 12 months from its decision date) and a
licence (中性: no end) about a company found by a two-character fragment of its name. The tests run
with the clock frozen on 2026-06-15, when every seeded record is published.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser import (
    BrowserLog,
    assert_accessible,
    focus_indicator,
    has_visible_focus,
    horizontal_overflow,
    tab_to,
    unlabelled_controls,
)
from tests.browser.conftest import LiveServer
from tests.conftest import FROZEN_AT
from tests.support.world import PASSWORD
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import uscc

QUERY = "青梧"  # two characters of the name
COMPANY = "南京青梧环保科技有限公司"
COMPANY_CODE = uscc.build("9", "1", "320106", "MA1QWT01")
GULOU_CODE = uscc.build("1", "1", "320106", "01400106")
GULOU = "南京市鼓楼区市场监督管理局"
PENALTY_NUMBER = "宁鼓市监处罚〔2026〕18号"
LICENCE_NUMBER = "宁鼓市监许〔2026〕5号"
WORLD_PENALTY_NUMBER = "宁玄市监处罚〔2026〕1号"  # tests.support.world: 玄武区 (320102)


@dataclass(frozen=True)
class Portal:
    penalty_id: int
    licence_id: int
    penalty_ends_at: datetime  # exclusive: from this instant the public no longer sees the penalty


def _penalty() -> dict[str, str]:
    return {"CF_WSH": PENALTY_NUMBER, "CF_WFXW": "违反环境保护管理规定", "CF_SY": "未按规定贮存危险废物",
            "CF_YJ": "《中华人民共和国固体废物污染环境防治法》第一百一十二条", "CF_CFLB": "罚款",
            "CF_NR": "罚款5万元", "CF_NR_FK": "5", "CF_JDRQ": "2026-03-02", "CF_CFJG": GULOU,
            "CF_CFJGDM": GULOU_CODE, "CF_SJLY": GULOU, "CF_SJLYDM": GULOU_CODE}


def _licence() -> dict[str, str]:
    return {"XK_XKWS": "准予行政许可决定书", "XK_WSH": LICENCE_NUMBER, "XK_XKLB": "登记",
            "XK_NR": "食品经营许可（预包装食品销售）", "XK_JDRQ": "2026-02-10", "XK_YXQZ": "2026-02-10",
            "XK_YXQZI": "2031-02-09", "XK_XKJG": GULOU, "XK_XKJGDM": GULOU_CODE, "XK_ZT": "有效",
            "XK_LYDW": GULOU, "XK_LYDWDM": GULOU_CODE}


@pytest.fixture(scope="module")
def portal(live_server: LiveServer) -> Portal:
    with live_server.session() as session:
        department = access.create_department(session, code=GULOU_CODE, name=GULOU, short_name="鼓楼区市场监管局",
                                              region_code="320106", sector="市场监管")
        user = access.create_user(session, Actor.system(), access.NewUser(
            "gl_scjg", PASSWORD, "department_submitter", "鼓楼区市场监管局", department_id=department.id))
        actor, company = access.actor_for(user), SubjectRef(uscc=COMPANY_CODE, name=COMPANY)
        penalty = records.submit(session, actor, "ADM_PENALTY", company, _penalty(), department_id=department.id,
                                 department_code=GULOU_CODE).record
        licence = records.submit(session, actor, "ADM_LICENSE", company, _licence(), department_id=department.id,
                                 department_code=GULOU_CODE).record
        assert penalty.published and penalty.publication_ends_at is not None
        return Portal(penalty.id, licence.id, penalty.publication_ends_at)


@pytest.fixture(autouse=True)
def _mid_2026() -> None:
    """Every record seeded here is in its publication window on 2026-06-15, whatever today is."""
    clock.freeze(FROZEN_AT)  # the root conftest resets the clock after each test


@pytest.fixture
def checked(browser_log: BrowserLog, live_server: LiveServer) -> Iterator[None]:
    """After the test: nothing was fetched from another host and no script failed."""
    yield
    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.errors == []


def search_from_home(page: Page) -> None:
    page.goto("/")
    page.get_by_role("searchbox").fill(QUERY)
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"/search\?q=%E9%9D%92%E6%A2%A7$"))  # 青梧, as the form encodes it
    expect(page.get_by_role("link", name=COMPANY)).to_be_visible()


def test_search_subject_page_and_penalty_publication_ends(page: Page, portal: Portal, checked: None) -> None:
    search_from_home(page)
    assert unlabelled_controls(page) == []
    assert_accessible(page)

    page.get_by_role("link", name=COMPANY).click()
    expect(page).to_have_url(re.compile(f"/credit/{COMPANY_CODE}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY)
    penalties = page.get_by_role("region", name="行政处罚")
    expect(penalties.get_by_role("link", name=PENALTY_NUMBER)).to_be_visible()
    expect(page.get_by_role("region", name="行政许可").get_by_role("link", name=LICENCE_NUMBER)).to_be_visible()
    assert_accessible(page)

    clock.freeze(portal.penalty_ends_at - timedelta(seconds=1))  # the last moment of publication
    page.reload()
    expect(penalties.get_by_role("link", name=PENALTY_NUMBER)).to_be_visible()

    clock.freeze(portal.penalty_ends_at)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY)
    expect(page.get_by_text(PENALTY_NUMBER)).to_have_count(0)
    expect(page.get_by_role("region", name="行政许可").get_by_role("link", name=LICENCE_NUMBER)).to_be_visible()
    response = page.goto(f"/publicity/records/{portal.penalty_id}")
    assert response is not None and response.status == 404
    page.goto("/publicity/penalties")
    expect(page.get_by_text(PENALTY_NUMBER)).to_have_count(0)


def test_the_same_on_a_phone(mobile_page: Page, portal: Portal, checked: None) -> None:
    page = mobile_page
    page.goto("/")
    assert horizontal_overflow(page) <= 0
    page.get_by_role("searchbox").tap()
    page.keyboard.type(QUERY)
    page.get_by_role("button", name="查询").tap()
    expect(page.get_by_role("link", name=COMPANY)).to_be_visible()
    assert horizontal_overflow(page) <= 0
    assert_accessible(page)

    page.get_by_role("link", name=COMPANY).tap()
    expect(page.get_by_role("region", name="行政处罚").get_by_role("link", name=PENALTY_NUMBER)).to_be_visible()
    assert horizontal_overflow(page) <= 0
    assert_accessible(page)

    page.get_by_role("link", name=PENALTY_NUMBER).tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text(PENALTY_NUMBER)
    assert horizontal_overflow(page) <= 0

    for path in ("/publicity/penalties", "/publicity/licences"):
        page.goto(path)
        assert horizontal_overflow(page) <= 0, path
        assert_accessible(page)

    clock.freeze(portal.penalty_ends_at)
    page.goto(f"/credit/{COMPANY_CODE}")
    expect(page.get_by_text(PENALTY_NUMBER)).to_have_count(0)
    assert horizontal_overflow(page) <= 0


@pytest.mark.parametrize(("kind", "number"), [("penalties", PENALTY_NUMBER), ("licences", LICENCE_NUMBER)])
def test_double_publicity_list_filters_and_detail(kind: str, number: str, page: Page, portal: Portal,
                                                  checked: None) -> None:
    page.goto(f"/publicity/{kind}")
    assert unlabelled_controls(page) == []
    assert_accessible(page)
    expect(page.get_by_role("link", name=number)).to_be_visible()
    if kind == "penalties":
        expect(page.get_by_role("link", name=WORLD_PENALTY_NUMBER)).to_be_visible()

    filters = page.get_by_role("form", name="筛选条件")
    filters.get_by_label("数据来源部门").select_option(GULOU_CODE)
    filters.get_by_label("行政区划").select_option("320106")
    filters.get_by_label("决定日期起").fill("2026-02-01")
    filters.get_by_label("决定日期止").fill("2026-03-31")
    filters.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(f"department={GULOU_CODE}&region=320106&"))
    expect(page.get_by_role("link", name=number)).to_be_visible()
    expect(page.get_by_role("link", name=WORLD_PENALTY_NUMBER)).to_have_count(0)
    expect(filters.get_by_label("行政区划")).to_have_value("320106")
    assert_accessible(page)

    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.get_by_role("main")).to_contain_text(GULOU)
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name=COMPANY).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY)


def test_search_with_the_keyboard_only(page: Page, portal: Portal, checked: None) -> None:
    page.goto("/")
    tab_to(page, "input[name=q]")
    assert has_visible_focus(focus_indicator(page)), focus_indicator(page)
    page.keyboard.type(QUERY)
    page.keyboard.press("Enter")
    result = page.get_by_role("link", name=COMPANY)
    expect(result).to_be_visible()
    tab_to(page, f'a[href="/credit/{COMPANY_CODE}"]')
    assert has_visible_focus(focus_indicator(page))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY)
