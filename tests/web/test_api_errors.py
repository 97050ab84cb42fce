"""Refusals over HTTP: a stable code, a Chinese message, the right status, and nothing changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.world import PASSWORD, SUBJECT_CODE, World, penalty_payload
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.config import Settings
from xinyong.db import session_factory
from xinyong.records import service as records
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc

Clients = Callable[[str], TestClient]
NEW_CODE = uscc.build("9", "1", "320104", "MA1XY0Q8")


def record_body(number: str = "宁玄市监处罚〔2026〕2号", **payload: Any) -> dict[str, Any]:
    return {"item": "ADM_PENALTY", "subject": {"uscc": SUBJECT_CODE, "name": "南京示范科技有限公司"},
            "payload": {**penalty_payload(number), **payload}}


def counts(settings: Settings) -> tuple[int, int]:
    with session_factory(settings)() as fresh:
        return records.count(fresh), subjects.count(fresh)


def audit_actions(settings: Settings, action: str) -> list[AuditEntry]:
    with session_factory(settings)() as fresh:
        return audit.recent(fresh, action=action, limit=20)


@contextmanager
def nothing_changes(settings: Settings) -> Iterator[None]:
    before = counts(settings)
    yield
    assert counts(settings) == before
    with session_factory(settings)() as fresh:
        assert audit.verify(fresh).ok


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert any("\u4e00" <= char <= "\u9fff" for char in error["message"]), error["message"]  # said in Chinese
    return error


def wrong_check_digit(code: str) -> str:
    return code[:17] + next(c for c in "0123456789" if c != code[17])


# --- bad input --------------------------------------------------------------------------------------

def test_a_malformed_subject_code(client_for: Clients, settings: Settings) -> None:
    client = client_for("department_submitter")
    bad = wrong_check_digit(NEW_CODE)
    with nothing_changes(settings):
        response = client.post("/api/v1/subjects", json={"uscc": bad, "name": "南京校验码错误有限公司"})
        error = error_of(response, 422, "USCC_CHECK_DIGIT")
    assert f"应为“{NEW_CODE[17]}”" in error["message"] and f"实际为“{bad[17]}”" in error["message"]
    assert error["field"] == "统一社会信用代码"
    created = client.post("/api/v1/subjects", json={"uscc": NEW_CODE, "name": "南京校验码正确有限公司"})
    assert created.status_code == 201 and created.json()["uscc"] == NEW_CODE


def test_a_record_for_an_unknown_item(client_for: Clients, settings: Settings) -> None:
    client = client_for("department_submitter")
    with nothing_changes(settings):
        response = client.post("/api/v1/records", json={**record_body(), "item": "NO_SUCH_ITEM"})
        error = error_of(response, 404, "CATALOGUE_ITEM_UNKNOWN")
    assert "NO_SUCH_ITEM" in error["message"]


def test_a_payload_not_matching_the_item(client_for: Clients, settings: Settings) -> None:
    client = client_for("department_submitter")
    body = record_body(CF_CFLB="罚金", CF_JDRQ="2026-02-30", CF_NR_FK="-1", CF_EXTRA="多余")
    del body["payload"]["CF_WSH"]
    with nothing_changes(settings):
        response = client.post("/api/v1/records", json=body)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
    problems = error["details"]["problems"]
    assert {(p["field"], p["code"]) for p in problems} == {
        ("CF_EXTRA", "FIELD_UNKNOWN"), ("CF_WSH", "FIELD_REQUIRED"), ("CF_CFLB", "FIELD_ENUM"),
        ("CF_JDRQ", "FIELD_DATE"), ("CF_NR_FK", "FIELD_TOO_SMALL")}
    assert all(p["message"] and p["message"] in error["message"] for p in problems)
    assert "行政处罚决定书文号为必填项" in error["message"]
    assert error["code"] == problems[0]["code"] and error["field"] == problems[0]["field"]


def test_a_request_body_of_the_wrong_shape(client_for: Clients, settings: Settings) -> None:
    client = client_for("department_submitter")
    with nothing_changes(settings):
        error = error_of(client.post("/api/v1/records", json={"item": "ADM_PENALTY"}), 422, "REQUEST_INVALID")
    assert {p["field"] for p in error["details"]["problems"]} >= {"subject", "payload"}


def test_a_valid_record_is_accepted_by_the_same_route(client_for: Clients, settings: Settings) -> None:
    before = counts(settings)
    response = client_for("department_submitter").post("/api/v1/records", json=record_body())
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "accepted"
    assert counts(settings) == (before[0] + 1, before[1])


# --- login ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "password"), [("scjg", "Wrong2026x"), ("nobody", PASSWORD)])
def test_failed_login_shows_one_message(client_for: Clients, settings: Settings, world: World, username: str,
                                        password: str) -> None:
    client = client_for("public")
    with nothing_changes(settings):
        response = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "用户名或密码错误" in response.text and "xy_session" not in response.headers.get("set-cookie", "")
    assert [e.detail["username"] for e in audit_actions(settings, "auth.failed")] == [username]
    assert client.get("/api/v1/me").status_code == 401


# --- who may ----------------------------------------------------------------------------------------

def test_missing_permission(client_for: Clients, settings: Settings) -> None:
    client = client_for("applying_department")
    with nothing_changes(settings):
        error = error_of(client.post("/api/v1/records", json=record_body()), 403, "PERMISSION_DENIED")
    assert error["details"]["permission"] == "records:submit"
    denied = audit_actions(settings, "access.denied")
    assert denied[0].detail == {"method": "POST", "code": "PERMISSION_DENIED", "message": "当前账号无权进行此操作"}
    assert denied[0].role == "applying_department"


def test_anonymous_api_calls_need_authentication(client_for: Clients, settings: Settings) -> None:
    client = client_for("public")
    with nothing_changes(settings):
        response = client.post("/api/v1/records", json=record_body())
        error_of(response, 401, "AUTH_REQUIRED")
    assert response.headers["www-authenticate"] == "Bearer"
    reading = client.get(f"/api/v1/subjects/{SUBJECT_CODE}")
    error_of(reading, 401, "AUTH_REQUIRED")
    # a page, unlike the API, sends the visitor to the login form
    page = client.get("/records", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def issue_token(client: TestClient, scopes: list[str]) -> str:
    response = client.post("/api/v1/me/tokens", json={"name": "批量报送接口", "scopes": scopes})
    assert response.status_code == 201, response.text
    assert response.json()["scopes"] == sorted(scopes)
    return response.json()["token"]


def test_a_bearer_token_submits(client_for: Clients, settings: Settings) -> None:
    token = issue_token(client_for("department_submitter"), ["records:submit", "subjects:read"])
    machine = client_for("public")
    bearer = {"Authorization": f"Bearer {token}"}
    assert machine.get("/api/v1/me", headers=bearer).json()["permissions"] == ["records:submit", "subjects:read"]
    before = counts(settings)
    response = machine.post("/api/v1/records", json=record_body(), headers=bearer)
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "accepted"
    assert counts(settings) == (before[0] + 1, before[1])
    again = machine.post("/api/v1/records", json=record_body(), headers=bearer)
    assert again.status_code == 201 and again.json()["outcome"] == "duplicate"
    assert counts(settings) == (before[0] + 1, before[1])


def test_a_token_without_the_scope_is_refused(client_for: Clients, settings: Settings) -> None:
    token = issue_token(client_for("department_submitter"), ["subjects:read"])
    machine = client_for("public")
    bearer = {"Authorization": f"Bearer {token}"}
    assert machine.get(f"/api/v1/subjects/{SUBJECT_CODE}", headers=bearer).status_code == 200
    with nothing_changes(settings):
        response = machine.post("/api/v1/records", json=record_body(), headers=bearer)
        error = error_of(response, 403, "TOKEN_SCOPE_MISSING")
    assert "records:submit" in error["message"]


def test_a_token_beyond_the_role_is_not_issued(client_for: Clients, settings: Settings) -> None:
    client = client_for("department_submitter")
    error = error_of(client.post("/api/v1/me/tokens", json={"name": "越权令牌", "scopes": ["users:manage"]}),
                     422, "TOKEN_SCOPE_NOT_ALLOWED")
    assert "users:manage" in error["message"]


@pytest.mark.parametrize("token", ["xy_garbage", "not even a token", "xy_" + "A" * 43])
def test_a_garbage_token_is_invalid(client_for: Clients, settings: Settings, token: str) -> None:
    machine = client_for("public")
    with nothing_changes(settings):
        response = machine.post("/api/v1/records", json=record_body(), headers={"Authorization": f"Bearer {token}"})
        error_of(response, 401, "TOKEN_INVALID")
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_bearer_token_overrides_a_cookie(client_for: Clients, settings: Settings) -> None:
    client = client_for("department_submitter")  # logged in, with a session cookie
    with nothing_changes(settings):
        response = client.post("/api/v1/records", json=record_body(), headers={"Authorization": "Bearer xy_nope"})
        error_of(response, 401, "TOKEN_INVALID")


# --- the shell --------------------------------------------------------------------------------------

def test_healthz_names_the_database(client_for: Clients, settings: Settings) -> None:
    response = client_for("public").get("/healthz")
    assert response.status_code == 200
    expected = "sqlite" if settings.sqlalchemy_url.startswith("sqlite") else "postgresql"
    assert response.json() == {"status": "ok", "database": expected}


def test_an_unknown_page_is_a_chinese_404(client_for: Clients) -> None:
    client = client_for("public")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "未找到" in response.text and "页面不存在" in response.text and "NOT_FOUND" in response.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["error"]["code"] == "NOT_FOUND"


def test_docs_serve_the_openapi_description(client_for: Clients) -> None:
    client = client_for("public")
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower() and "/openapi.json" in docs.text
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/records" in schema["paths"] and "/api/v1/subjects" in schema["paths"]
    assert schema["paths"]["/api/v1/records"]["post"]["summary"] == "报送一条信用记录"


def test_a_cross_origin_form_post_is_refused(client_for: Clients, settings: Settings, world: World) -> None:
    client = client_for("public")
    with nothing_changes(settings):
        response = client.post("/login", data={"username": "scjg", "password": PASSWORD},
                               headers={"Origin": "http://evil.example"}, follow_redirects=False)
        error = error_of(response, 403, "CROSS_ORIGIN")
    assert error["message"] == "拒绝跨站提交"
    assert "set-cookie" not in response.headers
    with session_factory(settings)() as fresh:
        logins = fresh.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")).all()
    assert logins == []
    same_site = client.post("/login", data={"username": "scjg", "password": PASSWORD},
                            headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert same_site.status_code == 303


def test_a_cross_origin_api_write_with_a_cookie_is_refused(client_for: Clients, settings: Settings) -> None:
    client = client_for("department_submitter")
    with nothing_changes(settings):
        response = client.post("/api/v1/records", json=record_body(), headers={"Origin": "http://evil.example"})
        error_of(response, 403, "CROSS_ORIGIN")


@pytest.mark.parametrize("url", ["/api/v1/records/99999999999999999999999", "/evaluation/runs/99999999999/subjects/1",
                                 "/subjects/99999999999", "/api/v1/evaluation/runs/99999999999999999999999"])
def test_ids_beyond_what_the_database_holds_are_not_found_not_a_crash(client_for: Clients, world: World,
                                                                      url: str) -> None:
    answer = client_for("authority_admin").get(url)
    assert answer.status_code == 404, answer.text[:300]
    assert "超出范围" in answer.text or "不存在" in answer.text
