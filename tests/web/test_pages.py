"""The web shell as each role uses it: login, navigation, the pages a role may see, logout."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.world import PASSWORD, World
from xinyong.audit.models import AuditEntry
from xinyong.web.templating import navigation_for

ROLES = ["authority_admin", "department_submitter", "applying_department", "subject_user",
         "authorised_institution", "auditor", "peer_platform", "public"]


def nav_links(html: str) -> list[str]:
    nav = html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


@pytest.mark.parametrize("role", ROLES)
def test_navigation_shows_only_what_the_role_may_open(role: str, client_for: Callable[[str], TestClient]) -> None:
    client = client_for(role)
    links = nav_links(client.get("/").text)
    assert links == [path for _label, path in navigation_for(role)]
    for path in links:
        assert client.get(path, follow_redirects=False).status_code == 200, path


def test_login_sets_a_protected_cookie_and_logout_ends_the_session(client_for: Callable[[str], TestClient],
                                                                   world: World) -> None:
    client = client_for("public")
    response = client.post("/login", data={"username": "u_auditor", "password": PASSWORD, "next": "/audit"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/audit"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/audit").status_code == 200
    token = client.cookies.get("xy_session")
    client.post("/logout", follow_redirects=False)
    client.cookies.set("xy_session", token)  # replaying the old cookie must not work
    assert client.get("/audit", follow_redirects=False).headers["location"].startswith("/login")


def test_login_refuses_an_open_redirect(client_for: Callable[[str], TestClient]) -> None:
    client = client_for("public")
    response = client.post("/login", data={"username": "u_auditor", "password": PASSWORD,
                                           "next": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/me"


def test_subject_sees_its_own_full_record(client_for: Callable[[str], TestClient]) -> None:
    page = client_for("subject_user").get("/me/credit").text
    assert "南京示范科技有限公司" in page and "行政处罚信息" in page and "南京市玄武区市场监督管理局" in page


def test_department_sees_its_submissions_and_can_revoke(client_for: Callable[[str], TestClient], world: World) -> None:
    client = client_for("department_submitter")
    assert "宁玄市监处罚〔2026〕1号" in client.get("/records").text
    page = client.post(f"/records/{world.record_id}/revoke", data={"reason": "决定已被复议撤销"}).text
    assert "已撤销" in page and "决定已被复议撤销" in page
    assert "宁玄市监处罚〔2026〕1号" in client.get(f"/records/{world.record_id}").text  # history is kept


def test_another_department_cannot_revoke(client_for: Callable[[str], TestClient], world: World) -> None:
    response = client_for("applying_department").post(f"/records/{world.record_id}/revoke", data={"reason": "试图撤销"})
    assert response.status_code == 403


def test_non_public_reads_are_audited(client_for: Callable[[str], TestClient], world: World, session: Session) -> None:
    client_for("applying_department").get(f"/subjects/{world.subject_id}")
    reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "record.read")).all()
    assert [(e.actor, e.subject_id) for e in reads] == [("u_applying_department", world.subject_id)]


def test_authority_revises_a_catalogue_item_in_the_ui(client_for: Callable[[str], TestClient]) -> None:
    client = client_for("authority_admin")
    form = client.get("/catalogue/HONOUR/edit").text
    fields_yaml = re.search(r'name="fields_yaml"[^>]*>(.*?)</textarea>', form, re.S).group(1)  # type: ignore[union-attr]
    import html

    data = {"name": "表彰奖励及诚信荣誉信息", "category": "表彰奖励/诚信荣誉", "description": "含省级以上诚信示范企业",
            "providing_departments": "发展改革、市场监管", "legal_basis_document": "《关于健全社会信用体系的意见》",
            "legal_basis_article": "第十三条", "legal_basis_level": "党中央国务院政策文件",
            "sharing_class": "无条件共享", "disclosure_class": "社会公开", "credit_nature": "守信", "severity": "",
            "evaluation_usable": "on", "natural_key": "RYMC,SYRQ", "fields_yaml": html.unescape(fields_yaml),
            "note": "补充说明"}
    page = client.post("/catalogue/HONOUR/edit", data=data).text
    assert "已生成第2版" in page and "补充说明" in page
    bad = client.post("/catalogue/HONOUR/edit", data={**data, "credit_nature": "失信", "note": "改为失信"})
    assert bad.status_code == 422 and "失信信息必须标明失信程度" in bad.text


def test_auditor_verifies_the_chain_in_the_ui(client_for: Callable[[str], TestClient]) -> None:
    page = client_for("auditor").get("/audit?verify=true").text
    assert "审计链完整" in page and "record.accepted" in page


def test_registering_a_bad_code_in_the_ui_says_why(client_for: Callable[[str], TestClient]) -> None:
    response = client_for("authority_admin").post("/subjects/register", data={"uscc": "91320102MA1XY0Q0X1",
                                                                              "name": "南京错误代码有限公司"})
    assert response.status_code == 422
    assert "第18位校验码应为" in response.text and "USCC_CHECK_DIGIT" in response.text


def test_pages_load_nothing_from_other_hosts(client_for: Callable[[str], TestClient]) -> None:
    """The platform often runs without internet: every script, style and image is served locally."""
    client = client_for("authority_admin")
    for path in ["/", "/catalogue", "/subjects", "/docs", "/login", "/admin/users"]:
        html = client.get(path).text
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
        assert external == [], f"{path} loads {external}"
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert client.get(asset).status_code == 200, asset


def test_home_page_shows_the_platform_figures(client_for: Callable[[str], TestClient]) -> None:
    html = client_for("public").get("/").text
    figures = re.findall(r'<span class="figure">([^<]*)</span>', html)
    assert figures == ["1", "1", "17", "2"]  # subjects, records, catalogue items, departments of the world
