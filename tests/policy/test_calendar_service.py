"""The authority's working-day calendar: schedule text, loading a year, refusals, the page and the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.actor import Actor
from xinyong.audit import service as audit_service
from xinyong.audit.models import AuditEntry
from xinyong.config import Settings
from xinyong.db import session_factory
from xinyong.errors import Invalid
from xinyong.policy import calendar_service as service
from xinyong.policy.calendar_routes import router
from xinyong.policy.models import CalendarDay
from xinyong.web.introspection import api_routes, declared_permission

AUTHORITY = Actor(user_id=None, username="发改委管理员", role="authority_admin")
SOURCE = "国务院办公厅关于2027年部分节假日安排的通知"
SCHEDULE_2027 = """# 2027年部分节假日安排（示例）
日期,安排,名称
2027-01-01,休,元旦
2027-02-06~2027-02-14,休,春节
2027-02-20,班,春节调休
2027-10-01~2027-10-07,休息,国庆节
2027-10-09,上班,国庆节调休
"""


def audit_entries(session: Session, action: str = "calendar.load") -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def row_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CalendarDay)) or 0


# --- the schedule text --------------------------------------------------------------------------


def test_parse_accepts_the_documented_formats() -> None:
    text = ("2027-01-01,休,元旦\n"
            "2027-02-10~2027-02-16,休,春节\n"
            "2027-02-07,班,春节调休\n"
            "2027/2/20 上班 春节调休\n"
            "2027年4月5日，rest，清明节\n"
            "2027-05-01 ～ 2027-05-02\tREST\t劳动节\n"
            "2027-05-08;work\n"
            "\n# a comment\n"
            "2027-06-14,放假,端午节  # trailing comment\n")
    days = service.parse_schedule(text)
    assert days[:2] == [(date(2027, 1, 1), False, "元旦"), (date(2027, 2, 10), False, "春节")]
    assert [d for d, _w, _n in days if _n == "春节"] == [date(2027, 2, 10 + i) for i in range(7)]
    assert (date(2027, 2, 7), True, "春节调休") in days
    assert (date(2027, 2, 20), True, "春节调休") in days
    assert (date(2027, 4, 5), False, "清明节") in days
    assert (date(2027, 5, 1), False, "劳动节") in days and (date(2027, 5, 2), False, "劳动节") in days
    assert (date(2027, 5, 8), True, "") in days
    assert (date(2027, 6, 14), False, "端午节") in days
    assert len(days) == 15


def test_parse_reads_a_utf8_bom_and_a_header_and_round_trips() -> None:
    days = service.parse_schedule("\ufeff" + SCHEDULE_2027)
    assert len(days) == 1 + 9 + 1 + 7 + 1
    assert service.parse_schedule(service.format_schedule(days)) == sorted(days)
    assert "2027-02-06~2027-02-14,休,春节" in service.format_schedule(days)


def test_parse_reports_every_faulty_line_with_its_number() -> None:
    text = ("2027-01-01,休,元旦\n"
            "2027-02-30,休,春节\n"  # no such date
            "明天,休,春节\n"
            "2027-02-07,也许,春节调休\n"
            "2027-02-16~2027-02-10,休,春节\n"
            "2027-03-01\n"
            "2027-01-01,班,重复\n")
    with pytest.raises(Invalid) as caught:
        service.parse_schedule(text)
    error = caught.value
    assert error.code == "CALENDAR_BAD_DATE"
    problems = [(p["line"], p["code"]) for p in error.details["problems"]]
    assert problems == [(2, "CALENDAR_BAD_DATE"), (3, "CALENDAR_BAD_DATE"), (4, "CALENDAR_BAD_STATUS"),
                        (5, "CALENDAR_BAD_RANGE"), (6, "CALENDAR_LINE_FORMAT"), (7, "CALENDAR_DUPLICATE_DAY")]
    assert "第2行" in error.message and "第7行" in error.message and "第1行出现" in error.message
    assert "“也许”无法识别" in error.message


def test_parse_of_nothing_is_an_empty_schedule() -> None:
    assert service.parse_schedule("\n# 无\n") == []


# --- loading a year ------------------------------------------------------------------------------


def test_loading_a_year_persists_audits_and_changes_deadlines(seeded: Session, settings: Settings) -> None:
    before = service.working_calendar(seeded)
    assert before is service.working_calendar(seeded)  # one per unit of work
    assert not before.covers(2027)
    assert before.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)

    count = service.load_year(seeded, AUTHORITY, 2027, service.parse_schedule(SCHEDULE_2027), SOURCE)
    assert count == 19

    after = service.working_calendar(seeded)
    assert after is not before
    assert after.covers(2027)
    assert after.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert after.add_working_days(date(2027, 2, 5), 3) == date(2027, 2, 17)
    assert after.add_working_days(date(2027, 2, 18), 2) == date(2027, 2, 20)  # Saturday worked in lieu
    assert after.day_name(date(2027, 10, 9)) == "国庆节调休"

    [entry] = audit_entries(seeded)
    assert (entry.actor, entry.object_type, entry.object_id) == ("发改委管理员", "calendar", "2027")
    assert entry.detail["source"] == SOURCE and entry.detail["count"] == 19 and entry.detail["before"] == []
    assert ["2027-01-01", "休", "元旦"] in entry.detail["after"]
    seeded.commit()

    with session_factory(settings)() as other:  # persisted, seen by a new unit of work
        rows = service.loaded_days(other, 2027)
        assert len(rows) == 19 and {r.source for r in rows} == {SOURCE} and {r.loaded_by for r in rows} == {"发改委管理员"}
        assert service.working_calendar(other).add_working_days(date(2027, 9, 30), 1) == date(2027, 10, 8)
        assert audit_service.verify(other).ok


def test_loading_again_replaces_the_year_and_the_audit_keeps_the_old_days(seeded: Session) -> None:
    service.load_year(seeded, AUTHORITY, 2027, service.parse_schedule(SCHEDULE_2027), SOURCE)
    service.load_year(seeded, AUTHORITY, 2028, [(date(2028, 1, 3), False, "元旦")], "2028年通知")
    service.load_year(seeded, AUTHORITY, 2027, [(date(2027, 1, 1), False, "元旦"), (date(2027, 2, 8), False, "春节")],
                      "更正后的通知")
    assert [(r.day, r.name, r.source) for r in service.loaded_days(seeded, 2027)] == [
        (date(2027, 1, 1), "元旦", "更正后的通知"), (date(2027, 2, 8), "春节", "更正后的通知")]
    assert len(service.loaded_days(seeded, 2028)) == 1  # other years untouched
    calendar = service.working_calendar(seeded)
    assert calendar.is_working_day(date(2027, 10, 1))  # no longer a holiday
    assert not calendar.is_working_day(date(2028, 1, 3))
    last = audit_entries(seeded)[-1]
    assert len(last.detail["before"]) == 19 and len(last.detail["after"]) == 2


def test_a_wrong_builtin_day_can_be_corrected_and_the_correction_cleared(seeded: Session) -> None:
    assert not service.working_calendar(seeded).is_working_day(date(2025, 10, 8))
    service.load_year(seeded, AUTHORITY, 2025, [(date(2025, 10, 8), True, "更正")], "勘误")
    assert service.working_calendar(seeded).is_working_day(date(2025, 10, 8))
    assert service.working_calendar(seeded).add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 8)
    assert not service.working_calendar(seeded).is_working_day(date(2025, 10, 7))  # the rest of 2025 is built-in
    assert service.load_year(seeded, AUTHORITY, 2025, [], "撤销勘误") == 0  # the package covers 2025
    assert not service.working_calendar(seeded).is_working_day(date(2025, 10, 8))


def test_a_weekend_made_working_without_a_name_is_called_a_make_up_day(seeded: Session) -> None:
    service.load_year(seeded, AUTHORITY, 2027, [(date(2027, 1, 1), False, "元旦"), (date(2027, 2, 20), True, "")], SOURCE)
    assert service.working_calendar(seeded).day_name(date(2027, 2, 20)) == "调休上班"


@pytest.mark.parametrize(("year", "days", "source", "code"), [
    (2027, [(date(2026, 12, 31), False, "元旦")], SOURCE, "CALENDAR_DAY_OUTSIDE_YEAR"),
    (2027, [(date(2027, 1, 1), False, "元旦"), (date(2027, 1, 1), True, "元旦")], SOURCE, "CALENDAR_DUPLICATE_DAY"),
    (2027, [(date(2027, 3, 3), False, "")], SOURCE, "CALENDAR_NAME_REQUIRED"),  # a Wednesday
    (2027, [(date(2027, 3, 3), False, "   ")], SOURCE, "CALENDAR_NAME_REQUIRED"),
    (2027, [(date(2027, 1, 1), False, "元" * 41)], SOURCE, "CALENDAR_NAME_TOO_LONG"),
    (2027, [], SOURCE, "CALENDAR_EMPTY"),  # nothing built in for 2027
    (2027, [(date(2027, 1, 1), False, "元旦")], " ", "CALENDAR_SOURCE_REQUIRED"),
    (2027, [(date(2027, 1, 1), False, "元旦")], "文" * 201, "CALENDAR_SOURCE_TOO_LONG"),
    (1999, [(date(1999, 1, 1), False, "元旦")], SOURCE, "CALENDAR_YEAR_INVALID"),
], ids=["outside", "duplicate", "weekday-unnamed", "weekday-blank-name", "long-name", "empty", "no-source",
        "long-source", "year"])
def test_refusals_change_nothing(seeded: Session, year: int, days: list[tuple[date, bool, str]], source: str,
                                 code: str) -> None:
    service.load_year(seeded, AUTHORITY, 2027, [(date(2027, 1, 1), False, "元旦")], SOURCE)
    calendar = service.working_calendar(seeded)
    entries = len(audit_entries(seeded))
    with pytest.raises(Invalid) as caught:
        service.load_year(seeded, AUTHORITY, year, days, source)
    assert caught.value.code == code
    assert row_count(seeded) == 1 and len(audit_entries(seeded)) == entries
    assert service.working_calendar(seeded) is calendar


def test_an_unnamed_rest_weekend_is_accepted(seeded: Session) -> None:
    assert service.load_year(seeded, AUTHORITY, 2027, [(date(2027, 1, 2), False, "")], SOURCE) == 1
    assert service.working_calendar(seeded).covers(2027)


# --- the page and the API ----------------------------------------------------------------------


@pytest.fixture
def calendar_client(client_for: Callable[[str], TestClient]) -> Callable[[str], TestClient]:
    return client_for


def test_every_calendar_route_declares_its_permission() -> None:
    declared = {(next(iter(r.methods)), r.path): str(declared_permission(r)) for r in api_routes(router.routes)}
    assert declared == {("GET", "/admin/calendar"): "policy:edit", ("POST", "/admin/calendar/{year}"): "policy:edit",
                        ("GET", "/api/v1/calendar/{year}"): "public"}


def test_the_page_shows_a_covered_year(calendar_client: Callable[[str], TestClient]) -> None:
    page = calendar_client("authority_admin").get("/admin/calendar?year=2026")
    assert page.status_code == 200
    assert "2026年已有节假日安排" in page.text and "春节" in page.text and "调休上班" in page.text
    assert 'class="cal-holiday"' in page.text and 'class="cal-makeup"' in page.text
    assert "系统尚无" not in page.text


def test_the_authority_loads_a_year_in_the_page(calendar_client: Callable[[str], TestClient], session: Session) -> None:
    client = calendar_client("authority_admin")
    assert "系统尚无2027年的节假日安排" in client.get("/admin/calendar?year=2027").text
    response = client.post("/admin/calendar/2027", data={"schedule": SCHEDULE_2027, "source": SOURCE})
    assert response.status_code == 200
    assert "已载入2027年节假日安排（19天）" in response.text and "2027年已有节假日安排" in response.text
    assert "2027-02-06~2027-02-14,休,春节" in response.text  # the textarea holds what was loaded
    assert len(service.loaded_days(session, 2027)) == 19
    assert [e.actor for e in audit_entries(session)] == ["u_authority_admin"]


def test_a_file_upload_in_gbk_is_loaded(calendar_client: Callable[[str], TestClient], session: Session) -> None:
    response = calendar_client("authority_admin").post(
        "/admin/calendar/2027", data={"source": SOURCE, "schedule": "ignored"},
        files={"file": ("2027.csv", SCHEDULE_2027.encode("gb18030"), "text/csv")})
    assert response.status_code == 200 and "（19天）" in response.text
    assert service.loaded_days(session, 2027)[0].name == "元旦"


def test_a_faulty_schedule_is_shown_back_with_line_numbers(calendar_client: Callable[[str], TestClient],
                                                           session: Session) -> None:
    text = "2027-01-01,休,元旦\n2027-13-01,休,春节\n"
    response = calendar_client("authority_admin").post("/admin/calendar/2027", data={"schedule": text, "source": SOURCE})
    assert response.status_code == 422
    assert "第2行" in response.text and "CALENDAR_BAD_DATE" in response.text
    assert "2027-13-01,休,春节" in response.text  # the text is kept for correcting
    assert row_count(session) == 0 and audit_entries(session) == []


def test_only_the_authority_may_load(calendar_client: Callable[[str], TestClient], session: Session) -> None:
    data = {"schedule": SCHEDULE_2027, "source": SOURCE}
    assert calendar_client("department_submitter").post("/admin/calendar/2027", data=data).status_code == 403
    assert calendar_client("department_submitter").get("/admin/calendar").status_code == 403
    anonymous = calendar_client("public").post("/admin/calendar/2027", data=data, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert row_count(session) == 0


def test_the_api_lists_the_days_that_are_not_ordinary(calendar_client: Callable[[str], TestClient]) -> None:
    public = calendar_client("public")
    body = public.get("/api/v1/calendar/2025").json()
    assert body["covers"] is True and body["year"] == 2025
    days = {d["date"]: d for d in body["days"]}
    assert days["2025-09-28"] == {"date": "2025-09-28", "is_working_day": True, "name": "调休上班", "kind": "makeup",
                                  "source": "builtin"}
    assert days["2025-10-01"]["name"] == "国庆节" and days["2025-10-01"]["is_working_day"] is False
    assert "2025-06-14" not in days  # an ordinary weekend
    uncovered = public.get("/api/v1/calendar/2027").json()
    assert uncovered["covers"] is False and uncovered["days"] == []
    assert public.get("/api/v1/calendar/1800").json()["error"]["code"] == "CALENDAR_YEAR_INVALID"


def test_the_api_shows_a_loaded_year(calendar_client: Callable[[str], TestClient]) -> None:
    calendar_client("authority_admin").post("/admin/calendar/2027", data={"schedule": SCHEDULE_2027, "source": SOURCE})
    body = calendar_client("public").get("/api/v1/calendar/2027").json()
    assert body["covers"] is True and len(body["days"]) == 19
    assert {"date": "2027-02-20", "is_working_day": True, "name": "春节调休", "kind": "makeup",
            "source": "override"} in body["days"]
