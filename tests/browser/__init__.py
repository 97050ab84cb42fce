"""Real-browser tests: Chromium (Debian's, driven by Playwright) against the app served in-process.

Helpers for the test modules; the fixtures are in ``conftest.py``.

- ``assert_accessible(page)``: axe-core (vendored, ``vendor/axe.min.js``) on the current page,
  WCAG 2 A and AA rules (contrast included); fails with one readable line per violating node.
- ``unlabelled_controls(page)``: form controls without an accessible name.
- ``tab_to(page, selector)``: press Tab until the focused element matches ``selector``.
- ``focus_indicator(page)``: how the focused element shows its focus (outline or box shadow).
- ``horizontal_overflow(page)``: how many CSS pixels the page is wider than the viewport.
- ``BrowserLog``: every request URL of a context, its uncaught script errors, console errors and
  failed sub-resources.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Error, Page, Request, Response

VENDOR = Path(__file__).resolve().parent / "vendor"
AXE_JS = VENDOR / "axe.min.js"
WCAG2_AA = ("wcag2a", "wcag2aa")

_RUN_AXE = """
async ({tags, exclude, disable}) => {
  const context = exclude.length ? {include: [document], exclude: exclude.map((s) => [s])} : document;
  const rules = Object.fromEntries(disable.map((id) => [id, {enabled: false}]));
  const result = await axe.run(context, {runOnly: {type: 'tag', values: tags}, rules, resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.map(String), summary: n.failureSummary || ''})),
  }));
}
"""


def axe_violations(page: Page, *, exclude: Iterable[str] = (), tags: Sequence[str] = WCAG2_AA,
                   disable: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; ``exclude`` takes CSS selectors of regions to leave out."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_RUN_AXE, {"tags": list(tags), "exclude": list(exclude), "disable": list(disable)})


def format_violations(violations: list[dict[str, Any]], url: str = "") -> str:
    lines = [f"axe：{url} 有 {len(violations)} 条无障碍规则未通过（WCAG 2 A/AA）"]
    for violation in violations:
        lines.append(f"- {violation['id']} [{violation['impact']}] {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {' '.join(node['target'])}: {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page, *, exclude: Iterable[str] = (), tags: Sequence[str] = WCAG2_AA,
                      disable: Iterable[str] = ()) -> None:
    """Fail with a readable list (rule, impact, selectors, help) if axe finds WCAG 2 A/AA violations."""
    violations = axe_violations(page, exclude=exclude, tags=tags, disable=disable)
    assert not violations, format_violations(violations, page.url)


_UNLABELLED = """
() => {
  const named = (el) => {
    if ((el.getAttribute('aria-label') || '').trim()) return true;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    if (ids.some((id) => (document.getElementById(id)?.textContent || '').trim())) return true;
    if (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) return true;
    if ((el.getAttribute('title') || '').trim()) return true;
    if (el.tagName === 'BUTTON') return el.textContent.trim() !== '';
    if (el.tagName === 'INPUT' && ['submit', 'reset', 'button'].includes(el.type))
      return (el.value || '').trim() !== '' || el.type !== 'button';
    if (el.tagName === 'INPUT' && el.type === 'image') return (el.alt || '').trim() !== '';
    return false;
  };
  return Array.from(document.querySelectorAll('input, select, textarea, button'))
    .filter((el) => el.type !== 'hidden' && !named(el))
    .map((el) => el.outerHTML.slice(0, 160));
}
"""


def unlabelled_controls(page: Page) -> list[str]:
    """The form controls (outerHTML, shortened) with no label, aria-label(ledby), title or text."""
    return page.evaluate(_UNLABELLED)


_DESCRIBE_ACTIVE = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? `[name=${el.name}]` : '')
    + ' ' + (el.textContent || el.value || '').trim().slice(0, 30);
}
"""


def tab_to(page: Page, selector: str, *, limit: int = 40) -> list[str]:
    """Press Tab until the focused element matches ``selector``; returns what was focused on the way."""
    visited: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return visited
        visited.append(page.evaluate(_DESCRIBE_ACTIVE))
    raise AssertionError(f"按 {limit} 次 Tab 仍未到达 {selector}；依次获得焦点的是：{visited}")


_FOCUS_STYLE = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
          outlineColor: style.outlineColor, boxShadow: style.boxShadow, focusVisible: el.matches(':focus-visible')};
}
"""


def focus_indicator(page: Page) -> dict[str, Any]:
    """The focused element's outline and box shadow (as computed), and whether it is :focus-visible."""
    return page.evaluate(_FOCUS_STYLE)


def has_visible_focus(style: dict[str, Any]) -> bool:
    outline = style["outlineStyle"] != "none" and style["outlineWidth"] >= 2
    return outline or style["boxShadow"] not in ("", "none")


def horizontal_overflow(page: Page) -> int:
    """CSS pixels by which the document is wider than the viewport (0 when it fits)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


@dataclass
class BrowserLog:
    """What a browser context did: request URLs, uncaught page errors, console errors."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"页面脚本错误：{error.message}")

    def on_response(self, response: Response) -> None:
        # Pages may answer 4xx on purpose (a test opening a withdrawn record); what they load may not.
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"资源加载失败：{response.status} {response.url}")

    def on_console(self, message: ConsoleMessage) -> None:
        # "Failed to load resource" repeats a status seen by on_response (or the browser's own favicon probe).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"控制台错误：{message.text} {message.location.get('url', '')}".strip())

    def foreign_requests(self, base_url: str) -> list[str]:
        """Requests that went anywhere but ``base_url``'s host (data: and blob: URLs are local)."""
        own = urlsplit(base_url).netloc
        return [url for url in self.requests
                if urlsplit(url).scheme not in ("data", "blob", "about") and urlsplit(url).netloc != own]
