"""Credit reports on the web: a subject asks for its report and downloads it, anyone verifies the file
(public page and API), the authority revokes reports, rotates and revokes keys and recognises another
platform's certificate; bad files always get a verdict, never a 500.

Stage: the world (its subject_user owns the world's company, 南京示范科技有限公司, which has one ADM_PENALTY by
market regulation) with the evaluation models and the sanctions configuration seeded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from weasyprint import HTML

from tests.support.world import BANK_CODE, DEPARTMENT_CODE, SUBJECT_CODE, World, penalty_payload
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit.models import AuditEntry
from xinyong.config import get_settings
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.reports import routes, signing
from xinyong.reports.document import ReportDocument, Section
from xinyong.reports.models import CreditReport
from xinyong.subjects import uscc

Clients = Callable[[str], TestClient]
COMPANY = "南京示范科技有限公司"
OTHER_CODE = uscc.build("9", "1", "320102", "MA1XY0Q9")
OTHER_NAME = "南京另一家贸易有限公司"
SUZHOU = "苏州市公共信用信息平台"


@pytest.fixture
def stage(world: World, sanctioned: Session) -> Session:
    sanctioned.commit()  # SQLite: a transaction left open would hold the write lock the app needs
    return sanctioned


def read(session: Session, query: Any) -> Any:
    """A value now, in a transaction of its own (sees what the app committed, leaves no lock behind)."""
    session.commit()
    found = session.scalar(query)
    session.commit()
    return found


def special_fields(session: Session) -> list[routes.SpecialField]:
    found = routes.special_fields(session)
    session.commit()  # SQLite: leave no write lock behind
    return found


def reports_stored(session: Session) -> int:
    return read(session, select(func.count()).select_from(CreditReport)) or 0


def audited(session: Session, action: str, code: str | None = None) -> int:
    session.commit()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
    session.commit()
    return sum(1 for e in entries if code is None or e.detail.get("code") == code)


def request_report(client: TestClient, **body: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/me/reports", json={"kind": "general", **body})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def download(client: TestClient, url: str) -> bytes:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in answer.headers["content-disposition"]
    return answer.content


def verify(client: TestClient, content: bytes, filename: str = "report.pdf") -> dict[str, Any]:
    answer = client.post("/api/v1/public/reports/verify", files={"file": (filename, content, "application/pdf")})
    assert answer.status_code == 200, answer.text[:300]
    return dict(answer.json())


def verify_page(client: TestClient, content: bytes, filename: str = "report.pdf") -> str:
    answer = client.post("/verify", files={"file": (filename, content, "application/pdf")})
    assert answer.status_code == 200, answer.text[:300]
    return answer.text


def flipped(content: bytes, offset: int) -> bytes:
    changed = bytearray(content)
    changed[offset] ^= 0x01
    return bytes(changed)


def plain_pdf() -> bytes:
    return HTML(string="<html><body style='font-family: WenQuanYi Micro Hei'><h1>无违法违规证明</h1>"
                       "<p>兹证明该企业在2025年度无违法违规记录。</p></body></html>").write_pdf()


def foreign_report(pair: signing.KeyPair, number: str = "XYBG3205002026000007") -> bytes:
    """A report as another region's Xinyong instance issues it: the same layout, its own key."""
    from xinyong.reports import render

    now = clock.now()
    document = ReportDocument(number=number, kind="general", title="公共信用信息报告（企业版）", platform_name=SUZHOU,
                              issued_at=now, data_as_of=now, subject_name="苏州示范制造有限公司",
                              subject_code=uscc.build("9", "1", "320505", "MA1T8R2W"),
                              basics=[("法定代表人", "王五"), ("登记状态", "存续")],
                              sections=[Section("行政处罚信息", ["决定文书号", "处罚内容"], [])],
                              verify_url=f"https://credit.suzhou.example/verify?number={number}")
    return signing.sign(render.render_pdf(document), pair, number=number, location="苏州市")


def other_company(session: Session, world: World) -> str:
    """A second company in the registry (a penalty by the world's market regulation names it)."""
    market = next(u for u in access.users(session) if u.username == world.usernames["department_submitter"])
    records.submit(session, access.actor_for(market), "ADM_PENALTY", SubjectRef(uscc=OTHER_CODE, name=OTHER_NAME),
                   penalty_payload("宁玄市监处罚〔2026〕7号"), department_id=world.department_id,
                   department_code=DEPARTMENT_CODE)
    session.commit()
    return OTHER_CODE


# --- the subject asks, anyone verifies -------------------------------------------------------------------


def test_a_subject_requests_a_general_report_downloads_it_and_anyone_verifies_it_genuine(
        client_for: Clients, stage: Session) -> None:
    subject, public = client_for("subject_user"), client_for("public")
    report = request_report(subject)
    assert (report["kind"], report["subject_name"], report["subject_code"], report["status"]) == (
        "general", COMPANY, SUBJECT_CODE, "valid")
    assert report["download_url"] == f"/api/v1/me/reports/{report['number']}/pdf"
    code = report["verify_url"].rsplit("&code=", 1)[1]
    assert report["verify_url"].endswith(f"/verify?number={report['number']}&code={code}") and len(code) == 8
    pdf = download(subject, report["download_url"])
    assert pdf.startswith(b"%PDF") and len(pdf) == report["size"]

    answer = verify(public, pdf)
    assert (answer["status"], answer["label"], answer["genuine"]) == ("genuine", "真实有效", True)
    assert (answer["number"], answer["subject_name"], answer["subject_code"]) == (report["number"], COMPANY, SUBJECT_CODE)
    assert answer["issuer"] == get_settings().platform_name and answer["kind_label"] == "公共信用信息报告"
    page = verify_page(public, pdf, "公共信用信息报告.pdf")
    assert "真实有效" in page and COMPANY in page and report["number"] in page and "公共信用信息报告.pdf" in page

    by_number = public.get(f"/api/v1/public/reports/{report['number']}?code={code}")
    assert by_number.status_code == 200 and by_number.json()["status"] == "genuine"
    assert public.get(f"/api/v1/public/reports/{report['number']}?code={code}",
                      headers={"If-None-Match": by_number.headers["etag"]}).status_code == 304
    qr = public.get(report["verify_url"].removeprefix(get_settings().site_url.rstrip("/")))  # what the QR code opens
    assert qr.status_code == 200 and "真实有效" in qr.text and COMPANY in qr.text
    bare = public.get(f"/verify?number={report['number']}")  # someone walking the numbers learns no names
    assert bare.status_code == 200 and "本平台出具过该编号的报告" in bare.text and COMPANY not in bare.text
    assert public.get(f"/api/v1/public/reports/{report['number']}").json()["subject_code"] == ""
    unknown = public.get("/verify?number=XYBG0000")
    assert "无法确认" in unknown.text and "没有出具过" in unknown.text

    listed = subject.get("/api/v1/me/reports").json()
    assert listed["total"] == 1 and listed["reports"][0]["number"] == report["number"]


def test_the_subjects_page_issues_lists_and_downloads(client_for: Clients, stage: Session) -> None:
    subject = client_for("subject_user")
    page = subject.get("/me/reports")
    assert page.status_code == 200 and "申请信用报告" in page.text and "尚未申请过信用报告" in page.text
    for field in special_fields(stage):
        assert field.label in page.text
    issued = subject.post("/me/reports", data={"kind": "general"}, follow_redirects=False)
    assert issued.status_code == 303, issued.text[:500]
    number = issued.headers["location"].split("number=")[1].split("#")[0]
    listing = subject.get(issued.headers["location"])
    assert "信用报告已出具并签章" in listing.text and number in listing.text and "新出具" in listing.text
    pdf = download(subject, f"/me/reports/{number}/pdf")
    assert verify(client_for("public"), pdf)["status"] == "genuine"


def test_a_special_report_names_its_fields_and_an_unknown_field_is_refused_with_nothing_stored(
        client_for: Clients, stage: Session) -> None:
    subject, public = client_for("subject_user"), client_for("public")
    fields = special_fields(stage)
    assert fields, "政策参数 special_report_fields 应当配置了领域"
    period = {"period_from": "2025-01-01", "period_to": "2025-12-31"}

    unknown = subject.post("/api/v1/me/reports", json={"kind": "special", "fields": ["NO_SUCH_FIELD"], **period})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "REPORT_FIELD_UNKNOWN", unknown.text
    incomplete = subject.post("/api/v1/me/reports", json={"kind": "special", "fields": [fields[0].code]})
    assert incomplete.status_code == 422 and incomplete.json()["error"]["code"] == "REPORT_SPECIAL_INCOMPLETE"
    form = subject.post("/me/reports", data={"kind": "special", "fields": ["NO_SUCH_FIELD"], **period})
    assert form.status_code == 422 and "REPORT_FIELD_UNKNOWN" in form.text and 'value="2025-01-01"' in form.text
    assert reports_stored(stage) == 0
    assert audited(stage, "report.refused", "REPORT_FIELD_UNKNOWN") == 2

    special = request_report(subject, kind="special", fields=[fields[0].code], **period)
    assert (special["kind"], special["fields"], special["period_from"]) == ("special", [fields[0].code], "2025-01-01")
    assert verify(public, download(subject, special["download_url"]))["kind_label"] == "专项信用报告"
    assert fields[0].label in subject.get("/me/reports").text


# --- bad files ---------------------------------------------------------------------------------------------


def test_altered_truncated_foreign_empty_and_huge_files_get_a_clear_answer_never_a_500(
        client_for: Clients, stage: Session) -> None:
    subject, public = client_for("subject_user"), client_for("public")
    pdf = download(subject, request_report(subject)["download_url"])

    for offset in (400, len(pdf) // 4, len(pdf) // 3):  # in the report's own content, well before the signature
        answer = verify(public, flipped(pdf, offset))
        assert (answer["status"], answer["label"]) == ("altered", "已被篡改"), offset
    assert "已被篡改" in verify_page(public, flipped(pdf, 400))
    for length in (len(pdf) - 1, len(pdf) - 100, len(pdf) // 3):
        assert verify(public, pdf[:length])["status"] == "altered", length
    assert "已被篡改" in verify_page(public, pdf[: len(pdf) // 3])

    unsigned = verify(public, plain_pdf())
    assert (unsigned["status"], unsigned["label"]) == ("not_signed", "不是签章的信用报告")
    text = verify(public, "这不是PDF，只是一段文字。".encode(), "说明.txt")
    assert (text["status"], text["label"]) == ("not_pdf", "不是PDF文件")
    assert verify(public, b"", "empty.pdf")["status"] == "not_pdf"
    assert "不是PDF文件" in verify_page(public, b"\x00\x01binary", "photo.jpg")

    huge = pdf + b"\x00" * (routes.MAX_REPORT_BYTES + 1 - len(pdf))
    too_large = public.post("/api/v1/public/reports/verify", files={"file": ("huge.pdf", huge, "application/pdf")})
    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "REPORT_FILE_TOO_LARGE"
    page = public.post("/verify", files={"file": ("huge.pdf", huge, "application/pdf")})
    assert page.status_code == 413 and "REPORT_FILE_TOO_LARGE" in page.text and "20MB" in page.text
    missing = public.post("/api/v1/public/reports/verify", data={})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "REQUEST_INVALID"
    nothing = public.post("/verify", data={})
    assert nothing.status_code == 422 and "REPORT_FILE_REQUIRED" in nothing.text


def test_bytes_changed_inside_the_signature_itself_never_give_a_500(client_for: Clients, stage: Session) -> None:
    """Bytes of the signature container (the certificate and the CMS structure) changed: a verdict each time."""
    subject, public = client_for("subject_user"), client_for("public")
    pdf = download(subject, request_report(subject)["download_url"])
    start = pdf.rindex(b"/Contents <") + len(b"/Contents <")
    end = pdf.index(b">", start)
    used = len(pdf[start:end].rstrip(b"0"))  # the DER signature; the rest is zero padding
    verdicts, server_errors = set(), []
    for offset in range(start, start + used, max(1, used // 90)):  # under the public rate limit (120/min)
        try:
            verdicts.add(verify(public, flipped(pdf, offset))["status"])
        except Exception as error:  # the test client re-raises what the server did not handle
            server_errors.append((offset - start, type(error).__name__, str(error)[:120]))
    assert server_errors == []
    assert verdicts <= {"altered", "unknown", "genuine"}, verdicts  # hex digits 'a'/'A' differ only in case


# --- the authority: revoking, keys, recognition ------------------------------------------------------------


def test_the_authority_revokes_a_report_and_verification_says_revoked(client_for: Clients, stage: Session) -> None:
    subject, admin, public = client_for("subject_user"), client_for("authority_admin"), client_for("public")
    report = request_report(subject)
    pdf = download(subject, report["download_url"])
    number = report["number"]

    register = admin.get("/reports")
    assert register.status_code == 200 and number in register.text and COMPANY in register.text
    detail = admin.get(f"/reports/{number}")
    assert detail.status_code == 200 and "作废报告" in detail.text and report["sha256"] in detail.text
    no_reason = admin.post(f"/reports/{number}/revoke", data={"reason": " "})
    assert no_reason.status_code == 422 and "REPORT_REASON_REQUIRED" in no_reason.text
    assert audited(stage, "report.refused", "REPORT_REASON_REQUIRED") == 1
    revoked = admin.post(f"/reports/{number}/revoke", data={"reason": "据以出具的处罚信息已更正"}, follow_redirects=False)
    assert revoked.status_code == 303 and revoked.headers["location"] == f"/reports/{number}?done=revoked"
    assert "报告已作废" in admin.get(revoked.headers["location"]).text

    answer = verify(public, pdf)
    assert (answer["status"], answer["label"]) == ("revoked", "已作废") and "已更正" in answer["detail"]
    assert "已作废" in verify_page(public, pdf)
    assert public.get(f"/api/v1/public/reports/{number}").json()["status"] == "revoked"
    mine = subject.get("/api/v1/me/reports").json()["reports"][0]
    assert (mine["status"], mine["revocation_reason"]) == ("revoked", "据以出具的处罚信息已更正")
    again = admin.post(f"/api/v1/reports/{number}/revoke", json={"reason": "重复作废"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "REPORT_REVOKED"
    assert admin.get("/api/v1/reports/XYBG404/pdf").status_code == 404


def test_rotation_keeps_old_reports_genuine_and_revoking_the_old_key_revokes_them(
        client_for: Clients, stage: Session) -> None:
    subject, admin, public = client_for("subject_user"), client_for("authority_admin"), client_for("public")
    old_report = request_report(subject)
    old_pdf = download(subject, old_report["download_url"])
    old_key = old_report["key_id"]

    keys_page = admin.get("/reports/keys")
    assert keys_page.status_code == 200 and old_key in keys_page.text and "使用中" in keys_page.text
    rotated = admin.post("/reports/keys/rotate", follow_redirects=False)
    assert rotated.status_code == 303 and "已更换签章密钥" in admin.get(rotated.headers["location"]).text
    keys = admin.get("/api/v1/reports/keys").json()["own"]
    assert [(k["key_id"] == old_key, k["status"]) for k in keys] == [(True, "retired"), (False, "active")]
    new_key = keys[1]["key_id"]

    assert verify(public, old_pdf)["status"] == "genuine"
    new_report = request_report(subject)
    assert new_report["key_id"] == new_key
    new_pdf = download(subject, new_report["download_url"])
    assert verify(public, new_pdf)["status"] == "genuine"

    published = public.get("/api/v1/public/report-certificates")
    assert published.status_code == 200 and published.headers["etag"]
    listed = {c["key_id"]: c for c in published.json()["certificates"]}
    assert {k: c["status_label"] for k, c in listed.items()} == {old_key: "已停用", new_key: "使用中"}
    assert all(c["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----") for c in listed.values())
    current = public.get("/api/v1/public/report-certificates/current.pem")
    assert current.status_code == 200 and current.headers["content-type"].startswith("application/x-pem-file")
    assert signing.key_id_of(current.content) == new_key

    no_reason = admin.post(f"/reports/keys/{old_key}/revoke", data={"reason": ""})
    assert no_reason.status_code == 422 and "REPORT_REASON_REQUIRED" in no_reason.text
    revoked = admin.post(f"/reports/keys/{old_key}/revoke", data={"reason": "私钥疑似泄露"}, follow_redirects=False)
    assert revoked.status_code == 303
    answer = verify(public, old_pdf)
    assert (answer["status"], answer["label"]) == ("revoked", "已作废")
    assert verify(public, new_pdf)["status"] == "genuine"
    assert public.get(f"/api/v1/public/reports/{old_report['number']}").json()["status"] == "revoked"
    statuses = {c["key_id"]: c["status_label"] for c in public.get("/api/v1/public/report-certificates").json()["certificates"]}
    assert statuses == {old_key: "已吊销", new_key: "使用中"}
    assert subject.get("/api/v1/me/reports").json()["reports"][1]["status"] == "revoked"  # the old one, listed second
    twice = admin.post(f"/api/v1/reports/keys/{old_key}/revoke", json={"reason": "再次吊销"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "SIGNING_KEY_REVOKED"


def test_another_regions_report_is_unknown_until_its_certificate_is_recognised(
        client_for: Clients, stage: Session) -> None:
    """跨区域互认: Suzhou's instance publishes its certificate; this platform's authority imports it."""
    admin, public = client_for("authority_admin"), client_for("public")
    suzhou = signing.generate_key(SUZHOU, "320500")
    theirs = foreign_report(suzhou)

    before = verify(public, theirs)
    assert (before["status"], before["label"], before["number"]) == ("unknown", "无法确认（非本平台或未互认平台出具）",
                                                                     "XYBG3205002026000007")
    assert "无法确认" in verify_page(public, theirs)

    missing = admin.post("/reports/trusted", data={"issuer": SUZHOU, "certificate_pem": ""})
    assert missing.status_code == 422 and "CERTIFICATE_REQUIRED" in missing.text
    garbage = admin.post("/reports/trusted", data={"issuer": SUZHOU, "certificate_pem": "-----BEGIN CERTIFICATE-----\nxx"})
    assert garbage.status_code == 422 and "CERTIFICATE_INVALID" in garbage.text and SUZHOU in garbage.text
    recognised = admin.post("/reports/trusted", data={"issuer": SUZHOU, "source": "https://credit.suzhou.example/",
                                                      "certificate_pem": suzhou.certificate_pem.decode()},
                            follow_redirects=False)
    assert recognised.status_code == 303
    keys_page = admin.get(recognised.headers["location"])
    assert SUZHOU in keys_page.text and suzhou.key_id in keys_page.text

    after = verify(public, theirs)
    assert (after["status"], after["issuer"], after["number"]) == ("genuine", SUZHOU, "XYBG3205002026000007")
    assert "真实有效" in verify_page(public, theirs) and SUZHOU in verify_page(public, theirs)
    assert verify(public, flipped(theirs, 500))["status"] == "altered"

    again = admin.post("/api/v1/reports/trusted", json={"certificate_pem": suzhou.certificate_pem.decode(), "issuer": "苏州"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "CERTIFICATE_KNOWN"
    wuxi = signing.generate_key("无锡市公共信用信息平台", "320200")
    uploaded = admin.post("/reports/trusted", data={"issuer": "无锡市公共信用信息平台"},
                          files={"certificate": ("wuxi.pem", wuxi.certificate_pem, "application/x-pem-file")},
                          follow_redirects=False)
    assert uploaded.status_code == 303
    trusted = admin.get("/api/v1/reports/trusted").json()
    assert [(t["issuer"], t["key_id"]) for t in trusted] == [(SUZHOU, suzhou.key_id), ("无锡市公共信用信息平台", wuxi.key_id)]
    assert verify(public, foreign_report(wuxi, "XYBG3202002026000001"))["status"] == "genuine"
    own = {c["key_id"] for c in public.get("/api/v1/public/report-certificates").json()["certificates"]}
    assert suzhou.key_id not in own  # only this platform's own certificates are published

    # Wuxi revokes its certificate: recognition is withdrawn here, its reports verify as revoked
    form = admin.post(f"/reports/trusted/{wuxi.key_id}/revoke", data={"reason": ""})
    assert form.status_code == 422 and "撤销互认的理由" in form.text
    ended = admin.post(f"/api/v1/reports/trusted/{wuxi.key_id}/revoke", json={"reason": "无锡市平台已吊销该证书"})
    assert ended.status_code == 200 and ended.json()["revocation_reason"] == "无锡市平台已吊销该证书"
    assert verify(public, foreign_report(wuxi, "XYBG3202002026000001"))["status"] == "revoked"
    assert "已撤销互认" in admin.get("/reports/keys").text


def test_the_authority_issues_for_a_subject_at_the_window(client_for: Clients, stage: Session) -> None:
    admin, subject = client_for("authority_admin"), client_for("subject_user")
    unknown = admin.post("/reports", data={"subject_code": OTHER_CODE, "kind": "general"})
    assert unknown.status_code == 404 and "SUBJECT_NOT_FOUND" in unknown.text
    blank = admin.post("/reports", data={"subject_code": "", "kind": "general"})
    assert blank.status_code == 422 and "REPORT_SUBJECT_REQUIRED" in blank.text
    issued = admin.post("/reports", data={"subject_code": SUBJECT_CODE, "kind": "general"}, follow_redirects=False)
    assert issued.status_code == 303 and issued.headers["location"].endswith("?done=issued")
    number = issued.headers["location"].split("/reports/")[1].split("?")[0]
    assert "信用报告已出具并签章" in admin.get(issued.headers["location"]).text
    pdf = download(admin, f"/reports/{number}/pdf")
    assert verify(client_for("public"), pdf)["status"] == "genuine"

    by_api = admin.post("/api/v1/reports", json={"subject_code": SUBJECT_CODE, "kind": "general"})
    assert by_api.status_code == 201 and by_api.json()["requested_by"] == "u_authority_admin"
    page = admin.get(f"/api/v1/reports?subject_code={SUBJECT_CODE}&limit=1").json()
    assert page["total"] == 2 and page["reports"][0]["number"] == by_api.json()["number"]
    filtered = admin.get(f"/reports?code={SUBJECT_CODE}")
    assert number in filtered.text and by_api.json()["number"] in filtered.text
    assert subject.get("/api/v1/me/reports").json()["total"] == 2  # the subject sees what was issued for it


# --- whose reports -------------------------------------------------------------------------------------------


def test_a_subject_asking_for_another_subjects_report_is_refused_and_audited(
        client_for: Clients, stage: Session, world: World) -> None:
    other = other_company(stage, world)
    admin, subject = client_for("authority_admin"), client_for("subject_user")
    theirs = admin.post("/api/v1/reports", json={"subject_code": other, "kind": "general"}).json()["number"]
    stored = reports_stored(stage)

    download_other = subject.get(f"/api/v1/me/reports/{theirs}/pdf")
    assert download_other.status_code == 403 and download_other.json()["error"]["code"] == "REPORT_NOT_AUTHORISED"
    request_other = subject.post("/api/v1/me/reports", json={"kind": "general", "subject_code": other})
    assert request_other.status_code == 403 and request_other.json()["error"]["code"] == "REPORT_NOT_AUTHORISED"
    assert subject.get(f"/me/reports/{theirs}/pdf").status_code == 403
    assert reports_stored(stage) == stored
    assert audited(stage, "access.denied", "REPORT_NOT_AUTHORISED") == 3
    assert theirs not in subject.get("/me/reports").text
    assert subject.get("/reports").status_code == 403  # the register is the authority's
    assert client_for("authorised_institution").post("/api/v1/me/reports", json={"kind": "general"}).status_code == 403


def test_downloads_are_audited(client_for: Clients, stage: Session) -> None:
    subject = client_for("subject_user")
    report = request_report(subject)
    download(subject, report["download_url"])
    download(client_for("authority_admin"), f"/api/v1/reports/{report['number']}/pdf")
    assert audited(stage, "reports.download") == 2


def test_without_a_cjk_font_issuing_answers_503_and_takes_nothing(
        client_for: Clients, stage: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from xinyong.reports import render

    def no_font() -> str:
        raise render.ReportFontMissing()

    monkeypatch.setattr(render, "_local", threading.local())  # no renderer built yet in any thread
    monkeypatch.setattr(render, "cjk_font_file", no_font)
    answer = client_for("subject_user").post("/api/v1/me/reports", json={"kind": "general"})
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "REPORT_FONT_MISSING"
    assert "中文字体" in answer.json()["error"]["message"]
    assert reports_stored(stage) == 0


def test_certificates_endpoint_without_any_key_yet(client_for: Clients, stage: Session) -> None:
    public = client_for("public")
    assert public.get("/api/v1/public/report-certificates").json()["certificates"] == []
    none = public.get("/api/v1/public/report-certificates/current.pem")
    assert none.status_code == 404 and none.json()["error"]["code"] == "SIGNING_KEY_NONE"
    assert client_for("authority_admin").get("/reports/keys").status_code == 200  # the keys page makes the first key
    assert public.get("/api/v1/public/report-certificates/current.pem").status_code == 200



# --- institutions, under the subject's grant -------------------------------------------------------------------


def grant_to_bank(stage: Session, world: World, scope: list[str]) -> str:
    from xinyong.grants import service as grants

    owner = Actor(user_id=None, username="企业经办人", role="subject_user", subject_id=world.subject_id)
    grant = grants.create_grant(stage, owner, institution_code=BANK_CODE, scope=scope, purpose="贷款审查",
                                ends_on=clock.today().replace(year=clock.today().year + 1))
    stage.commit()
    return grant.number


def test_a_bank_gets_a_report_only_under_a_live_grant_covering_reports(
        client_for: Clients, stage: Session, world: World) -> None:
    bank = client_for("authorised_institution")
    body = {"kind": "general", "subject_code": SUBJECT_CODE}
    assert bank.post("/api/v1/authorised/reports", json={**body, "grant": "SQ000"}).json()["error"]["code"] == \
        "GRANT_INVALID"
    narrow = grant_to_bank(stage, world, ["registration"])
    refused_scope = bank.post("/api/v1/authorised/reports", json={**body, "grant": narrow})
    assert refused_scope.status_code == 403 and refused_scope.json()["error"]["code"] == "GRANT_SCOPE_EXCEEDED"
    assert reports_stored(stage) == 0

    number = grant_to_bank(stage, world, ["report"])
    answer = bank.post("/api/v1/authorised/reports", json={**body, "grant": number})
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert report["subject_code"] == SUBJECT_CODE and report["download_url"].startswith("/api/v1/authorised/reports/")
    pdf = download(bank, f"{report['download_url']}?grant={number}")
    assert verify(client_for("public"), pdf)["status"] == "genuine"
    assert [r["number"] for r in bank.get("/api/v1/authorised/reports").json()["reports"]] == [report["number"]]
    assert audited(stage, "reports.issue") == 1 and audited(stage, "reports.download") == 1

    # the subject's own reports are not the bank's to download, and revoking the grant stops downloads at once
    own = request_report(client_for("subject_user"))
    assert bank.get(f"/api/v1/authorised/reports/{own['number']}/pdf?grant={number}").status_code == 404
    assert client_for("subject_user").post(f"/api/v1/me/grants/{number}/revocation", json={"reason": "贷款已结清"}
                                           ).status_code in (200, 201)
    after = bank.get(f"{report['download_url']}?grant={number}")
    assert after.status_code == 403 and after.json()["error"]["code"].startswith("GRANT_")
    assert bank.post("/api/v1/authorised/reports", json={**body, "grant": number}).status_code == 403


def test_the_banks_page_issues_under_a_grant_and_downloads(client_for: Clients, stage: Session, world: World) -> None:
    bank = client_for("authorised_institution")
    number = grant_to_bank(stage, world, ["registration", "report"])
    assert "出具信用报告" in bank.get("/institution/grants").text
    page = bank.get(f"/institution/reports?code={SUBJECT_CODE}&grant={number}")
    assert page.status_code == 200 and f'value="{number}"' in page.text
    missing = bank.post("/institution/reports", data={"subject_code": SUBJECT_CODE, "grant": number, "kind": "special"})
    assert missing.status_code == 422 and "专项信用报告须指定领域和起止日期" in missing.text
    issued = bank.post("/institution/reports", data={"subject_code": SUBJECT_CODE, "grant": number, "kind": "general"},
                       follow_redirects=False)
    assert issued.status_code == 303, issued.text[:300]
    listing = bank.get(issued.headers["location"]).text
    assert COMPANY in listing and "新出具" in listing
    report = read(stage, select(CreditReport))
    assert download(bank, f"/institution/reports/{report.number}/pdf").startswith(b"%PDF")
    assert client_for("subject_user").get("/institution/reports").status_code == 403
    forged = bank.post("/institution/reports", data={"subject_code": SUBJECT_CODE, "grant": "SQ20260101FAKE",
                                                     "kind": "general"})
    assert forged.status_code == 403 and reports_stored(stage) == 1
    # an unknown code is refused exactly like a subject without a grant: no one learns who exists
    other_company(stage, world)  # registered, but no grant for it
    other = bank.post("/api/v1/authorised/reports", json={"kind": "general", "subject_code": OTHER_CODE, "grant": number})
    nobody = bank.post("/api/v1/authorised/reports", json={"kind": "general", "grant": number,
                                                           "subject_code": uscc.build("9", "1", "320102", "MA1XY0Q7")})
    assert nobody.status_code == other.status_code == 403
    assert nobody.json()["error"]["message"] == other.json()["error"]["message"]
