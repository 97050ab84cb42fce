"""Credit reports in a real browser: the world's company asks for its report and downloads the signed PDF;
an anonymous visitor uploads that file on /verify and is told it is genuine, and the same file with one
byte changed is not. The pages pass axe (WCAG 2 A/AA) and every control has a name."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser import assert_accessible, unlabelled_controls
from tests.browser.conftest import LiveServer
from tests.browser.test_sanctions import checked, log_in  # noqa: F401  (checked: a fixture)
from tests.reports.test_render import Pdf
from tests.support.world import SUBJECT_CODE

COMPANY = "南京示范科技有限公司"


def accessible(page: Page) -> None:
    assert unlabelled_controls(page) == [], page.url
    assert_accessible(page)


def test_a_company_downloads_its_report_and_a_visitor_verifies_it(
        page: Page, new_context: Callable[..., BrowserContext], live_server: LiveServer, tmp_path: Path,
        checked: None) -> None:  # noqa: F811
    log_in(page, live_server.world.usernames["subject_user"])
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的报告").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的信用报告")
    accessible(page)
    page.get_by_label("公共信用信息报告").check()
    page.get_by_role("button", name="出具报告").click()
    expect(page).to_have_url(re.compile(r"/me/reports\?done=issued"))
    expect(page.get_by_role("status")).to_contain_text("信用报告已出具并签章")
    accessible(page)
    with page.expect_download() as started:
        page.get_by_role("link", name=re.compile("下载PDF")).first.click()
    report = tmp_path / "report.pdf"
    started.value.save_as(report)
    assert report.read_bytes().startswith(b"%PDF")
    number = re.search(r"XYBG\d+", started.value.suggested_filename)
    assert number is not None, started.value.suggested_filename

    visitor = new_context().new_page()
    visitor.goto("/")
    visitor.get_by_role("navigation", name="主导航").get_by_role("link", name="报告核验").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("信用报告核验")
    accessible(visitor)
    visitor.get_by_label("信用报告PDF文件").set_input_files(report)
    visitor.get_by_role("button", name="核验", exact=True).click()
    verdict = visitor.get_by_role("heading", name=re.compile("核验结果"))
    expect(verdict).to_contain_text("真实有效")
    expect(visitor.locator("#result")).to_contain_text(COMPANY)
    expect(visitor.locator("#result")).to_contain_text(number.group(0))
    accessible(visitor)

    altered = tmp_path / "altered.pdf"
    content = bytearray(report.read_bytes())
    content[len(content) // 3] ^= 0x01
    altered.write_bytes(bytes(content))
    visitor.get_by_label("信用报告PDF文件").set_input_files(altered)
    visitor.get_by_role("button", name="核验", exact=True).click()
    expect(visitor.get_by_role("heading", name=re.compile("核验结果"))).to_contain_text("已被篡改")

    visitor.get_by_label("报告编号", exact=True).fill(number.group(0))  # a number alone names nobody
    visitor.get_by_role("button", name="查询").click()
    expect(visitor.get_by_role("heading", name=re.compile("核验结果"))).to_contain_text("本平台出具过该编号的报告")
    expect(visitor.locator("#result")).not_to_contain_text(COMPANY)
    code = re.search(r"核验码\s*([A-Z2-9]{8})", Pdf(report.read_bytes()).text)
    assert code is not None
    visitor.get_by_label("核验码", exact=True).fill(code.group(1))  # what scanning the QR code does
    visitor.get_by_role("button", name="查询").click()
    expect(visitor).to_have_url(re.compile(rf"/verify\?number={number.group(0)}&code={code.group(1)}$"))
    expect(visitor.get_by_role("heading", name=re.compile("核验结果"))).to_contain_text("真实有效")
    expect(visitor.locator("#result")).to_contain_text(COMPANY)
    accessible(visitor)


def test_the_authority_pages_pass_axe(page: Page, live_server: LiveServer, checked: None) -> None:  # noqa: F811
    log_in(page, live_server.world.usernames["authority_admin"])
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="信用报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("信用报告")
    accessible(page)
    page.get_by_role("link", name="签章证书与跨区域互认").first.click()
    expect(page.get_by_text("使用中").first).to_be_visible()
    accessible(page)


def test_the_banks_report_page_passes_axe(page: Page, live_server: LiveServer, checked: None) -> None:  # noqa: F811
    log_in(page, live_server.world.usernames["authorised_institution"])
    page.goto("/institution")
    page.get_by_role("link", name="经授权出具的信用报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("经授权出具的信用报告")
    accessible(page)
    page.get_by_label("统一社会信用代码").fill(SUBJECT_CODE)
    page.get_by_label("授权编号").fill("SQ20260101FAKE")
    page.get_by_label("公共信用信息报告").check()
    page.get_by_role("button", name="出具报告").click()
    expect(page.locator("main")).to_contain_text("GRANT_INVALID")
