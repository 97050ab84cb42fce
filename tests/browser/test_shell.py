"""The pages every visitor meets (home, login) in a real browser: accessibility, keyboard, phone, login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser import (
    BrowserLog,
    assert_accessible,
    axe_violations,
    focus_indicator,
    format_violations,
    has_visible_focus,
    horizontal_overflow,
    tab_to,
    unlabelled_controls,
)
from tests.browser.conftest import LiveServer
from tests.support.world import PASSWORD
from xinyong import clock

PUBLIC_PAGES = ["/", "/login"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_is_accessible_and_self_contained(path: str, page: Page, live_server: LiveServer,
                                                      browser_log: BrowserLog) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200
    assert page.get_attribute("html", "lang") in ("zh-CN", "zh", "zh-Hans")
    assert page.title()
    assert unlabelled_controls(page) == []
    assert_accessible(page)
    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.errors == []


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_fits_a_phone(path: str, mobile_page: Page, browser_log: BrowserLog) -> None:
    mobile_page.goto(path)
    assert horizontal_overflow(mobile_page) <= 0
    assert_accessible(mobile_page)
    assert browser_log.errors == []


def test_login_error_is_announced_and_accessible(page: Page, live_server: LiveServer) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(live_server.world.usernames["subject_user"])
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.get_by_label("用户名").input_value() == live_server.world.usernames["subject_user"]
    assert_accessible(page)


def test_subject_user_logs_in_sees_own_credit_and_logs_out(page: Page, live_server: LiveServer) -> None:
    page.goto("/me/credit")
    expect(page).to_have_url(f"{live_server.url}/login?next=/me/credit")
    page.get_by_label("用户名").fill(live_server.world.usernames["subject_user"])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}/me/credit")
    expect(page.get_by_role("main")).to_contain_text("南京示范科技有限公司")
    assert unlabelled_controls(page) == []
    assert_accessible(page)
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的信用")).to_be_visible()
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("link", name="登录").first).to_be_visible()


def test_web_session_ends_when_the_servers_clock_passes_its_expiry(page: Page, live_server: LiveServer) -> None:
    """The server runs in this process: moving ``xinyong.clock`` here moves it for the server."""
    page.goto("/login?next=/me")
    page.get_by_label("用户名").fill(live_server.world.usernames["auditor"])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}/me")
    clock.advance(timedelta(hours=live_server.settings.session_hours, minutes=1))
    page.reload()
    expect(page).to_have_url(f"{live_server.url}/login?next=/me")


def test_skip_link_is_the_first_stop_and_shows_focus(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    style = focus_indicator(page)
    assert style["focusVisible"] and has_visible_focus(style), style
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{page.url.split('#')[0]}#main")


def test_login_with_the_keyboard_only(page: Page, live_server: LiveServer) -> None:
    page.goto("/login?next=/me")
    tab_to(page, "#username")
    assert has_visible_focus(focus_indicator(page))
    page.keyboard.type(live_server.world.usernames["auditor"])
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    assert has_visible_focus(focus_indicator(page))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/me")


def test_axe_helper_reports_contrast_and_labels(page: Page) -> None:
    """The checker itself: a page with grey-on-white text and an unlabelled input must fail."""
    page.set_content('<!doctype html><html lang="zh-CN"><head><title>测试</title></head><body><main>'
                     '<p style="color:#bbb;background:#fff">浅灰色文字</p><input name="q"></main></body></html>')
    violations = {v["id"]: v for v in axe_violations(page)}
    assert {"color-contrast", "label"} <= set(violations)
    assert unlabelled_controls(page) == ['<input name="q">']
    report = format_violations(list(violations.values()), "about:blank")
    assert "color-contrast" in report and "input" in report
    with pytest.raises(AssertionError, match="color-contrast"):
        assert_accessible(page)
