"""The public portal: what the public sees, for how long, masked how — decided at read time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.world import DEPARTMENT_CODE, SUBJECT_CODE, World, penalty_payload
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.app import create_app
from xinyong.catalogue import service as catalogue
from xinyong.catalogue.schemas import ItemSpec
from xinyong.config import Settings
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef

SUBJECT = SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司")
PENALTY_NUMBER = "宁玄市监处罚〔2026〕1号"  # the world's penalty, decided 2026-01-05, 一般: 12 months
ENDS = datetime(2027, 1, 5, tzinfo=clock.SHANGHAI)  # exclusive: gone from this instant


@pytest.fixture
def public(client_for: Callable[[str], TestClient]) -> TestClient:
    return client_for("public")


def submitter(session: Session, world: World) -> Actor:
    username = world.usernames["department_submitter"]
    return access.actor_for(next(u for u in access.users(session) if u.username == username))


def licence_payload(number: str, decided: str = "2026-02-10") -> dict[str, str]:
    return {"XK_XKWS": "食品经营许可决定书", "XK_WSH": number, "XK_XKLB": "普通", "XK_NR": "食品销售经营者（网络经营）",
            "XK_JDRQ": decided, "XK_YXQZ": decided, "XK_YXQZI": "2031-02-09", "XK_XKJG": "南京市玄武区市场监督管理局",
            "XK_XKJGDM": DEPARTMENT_CODE, "XK_ZT": "有效", "XK_LYDW": "南京市玄武区市场监督管理局",
            "XK_LYDWDM": DEPARTMENT_CODE}


def submit(session: Session, world: World, item: str, payload: dict[str, Any],
           ref: SubjectRef = SUBJECT) -> records.Submission:
    result = records.submit(session, submitter(session, world), item, ref, payload, department_id=world.department_id,
                            department_code=DEPARTMENT_CODE)
    session.commit()
    return result


def penalty_visible(client: TestClient, record_id: int) -> dict[str, bool]:
    """Is the record on each public surface?"""
    subject = client.get(f"/api/v1/public/subjects/{SUBJECT_CODE}").json()
    listed = client.get("/api/v1/public/publicity/penalties").json()
    return {
        "subject_api": any(r["id"] == record_id for s in subject["sections"] for r in s["records"]),
        "record_api": client.get(f"/api/v1/public/records/{record_id}").status_code == 200,
        "list_api": any(r["id"] == record_id for r in listed["items"]),
        "subject_page": PENALTY_NUMBER in client.get(f"/credit/{SUBJECT_CODE}").text,
        "list_page": PENALTY_NUMBER in client.get("/publicity/penalties").text,
        "record_page": client.get(f"/publicity/records/{record_id}").status_code == 200,
        "home_page": PENALTY_NUMBER in client.get("/").text or f"/publicity/records/{record_id}" in client.get("/").text,
    }


# --- publication ends by itself ---------------------------------------------------------------------

def test_a_penalty_is_public_until_its_period_ends_then_gone_everywhere(public: TestClient, world: World) -> None:
    clock.freeze(ENDS - timedelta(seconds=1))
    assert all(penalty_visible(public, world.record_id).values())

    clock.freeze(ENDS)  # nobody acts: the window closes at read time
    assert not any(penalty_visible(public, world.record_id).values())
    assert public.get(f"/api/v1/public/records/{world.record_id}").json()["error"]["code"] == "RECORD_NOT_PUBLIC"
    # The subject itself is still public (registration information), just without the penalty.
    assert public.get(f"/api/v1/public/subjects/{SUBJECT_CODE}").status_code == 200


def test_the_window_follows_the_item_and_the_record(seeded: Session, world: World, public: TestClient) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, tzinfo=clock.SHANGHAI))
    record = records.get(seeded, world.record_id)
    assert record.published is True
    assert clock.local(record.publication_starts_at).date().isoformat() == "2026-01-05"
    assert clock.local(record.publication_ends_at) == ENDS
    seeded.commit()  # end the read transaction (SQLite: one writer at a time)
    body = public.get(f"/api/v1/public/records/{world.record_id}").json()
    assert body["publication_last_day"] == "2027-01-04"
    # A 公示截止期 earlier than the maximum shortens publication.
    short = submit(seeded, world, "ADM_PENALTY", {**penalty_payload("宁玄市监处罚〔2026〕2号"), "CF_GSJZQ": "2026-07-01"})
    assert clock.local(short.record.publication_ends_at).date().isoformat() == "2026-07-01"
    seeded.commit()
    clock.freeze(datetime(2026, 7, 1, tzinfo=clock.SHANGHAI))
    assert public.get(f"/api/v1/public/records/{short.record.id}").status_code == 404


def test_the_subject_sees_its_full_record_after_publication_ends(client_for: Callable[[str], TestClient],
                                                                 world: World) -> None:
    clock.freeze(ENDS + timedelta(days=1))
    own = client_for("subject_user")
    page = own.get("/me/credit")
    assert page.status_code == 200
    assert "公示期满（2027-01-04止），已停止公示" in page.text
    assert "南京市玄武区市场监督管理局" in page.text  # which department provided it
    api = own.get("/api/v1/me/records").json()
    assert [r["id"] for r in api] == [world.record_id]
    assert api[0]["published"] is True and api[0]["publication_ends_at"].startswith("2027-01-0")


# --- never published ----------------------------------------------------------------------------------

PUBLIC_PATHS = ["/", "/search?q=示范", "/search?q=南京示范科技有限公司", f"/credit/{SUBJECT_CODE}",
                "/publicity/penalties", "/publicity/licences", "/api/v1/public/search?q=示范",
                f"/api/v1/public/subjects/{SUBJECT_CODE}", "/api/v1/public/publicity/penalties",
                "/api/v1/public/publicity/licences"]


def every_public_response(client: TestClient, record_ids: list[int]) -> Iterator[tuple[str, str]]:
    paths = PUBLIC_PATHS + [p for i in record_ids for p in (f"/publicity/records/{i}", f"/api/v1/public/records/{i}")]
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, path
        yield path, response.text


def test_non_public_records_never_appear_in_any_public_response(seeded: Session, world: World,
                                                                  public: TestClient) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, tzinfo=clock.SHANGHAI))
    hidden = {
        "SUMMARY-机密甲": submit(seeded, world, "ADM_PENALTY", {
            **penalty_payload("宁玄市监简罚〔2026〕9号"), "CF_JYCX": "是", "CF_SY": "SUMMARY-机密甲"}),
        "WARNING-机密乙": submit(seeded, world, "ADM_PENALTY", {
            **penalty_payload("宁玄市监处罚〔2026〕8号"), "CF_CFLB": "警告", "CF_SY": "WARNING-机密乙"}),
        "CONTRACT-机密丙": submit(seeded, world, "CONTRACT", {
            "HTBH": "CONTRACT-机密丙", "HTMC": "办公楼物业服务合同", "LYQK": "违约", "QDRQ": "2026-02-01"}),
    }
    tax = submit(seeded, world, "TAX_CREDIT", {"PJND": 2025, "NSXYDJ": "D", "PDRQ": "2026-04-01"})
    revoked = submit(seeded, world, "ADM_PENALTY", {**penalty_payload("宁玄市监处罚〔2026〕7号"), "CF_SY": "REVOKED-机密戊"})
    records.revoke(seeded, submitter(seeded, world), revoked.record.id, "处罚决定已被复议撤销")
    corrected = submit(seeded, world, "ADM_PENALTY", {**penalty_payload("宁玄市监处罚〔2026〕6号"), "CF_SY": "OLD-机密己"})
    newer = submit(seeded, world, "ADM_PENALTY", {**penalty_payload("宁玄市监处罚〔2026〕6号"), "CF_SY": "更正后的违法事实"})
    assert newer.outcome == "correction"
    seeded.commit()
    assert not any(s.record.published for s in [*hidden.values(), tax])

    ids = [s.record.id for s in [*hidden.values(), tax]] + [revoked.record.id, corrected.record.id]
    markers = [*hidden, "REVOKED-机密戊", "OLD-机密己", "纳税信用"]
    seen = {path: text for path, text in every_public_response(public, ids)}
    leaks = [(path, m) for path, text in seen.items() for m in markers if m in text]
    assert leaks == []
    assert "更正后的违法事实" in seen[f"/api/v1/public/subjects/{SUBJECT_CODE}"]
    for record_id in ids:
        assert public.get(f"/api/v1/public/records/{record_id}").status_code == 404


def test_personal_data_is_masked_by_rule(seeded: Session, world: World, public: TestClient) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, tzinfo=clock.SHANGHAI))
    spec = ItemSpec.model_validate({
        "code": "HONOUR_CONTACT", "category": "表彰奖励/诚信荣誉", "name": "诚信经营示范单位",
        "providing_departments": ["市场监管"],
        "legal_basis": {"document": "《关于健全社会信用体系的意见》", "article": "第十三条", "level": "党中央国务院政策文件"},
        "sharing_class": "无条件共享", "disclosure_class": "社会公开", "credit_nature": "守信",
        "evaluation_usable": False, "natural_key": ["RYMC"],
        "fields": [
            {"name": "RYMC", "label": "荣誉名称", "type": "string", "required": True},
            {"name": "SYRQ", "label": "授予日期", "type": "date", "required": True, "decision_date": True},
            {"name": "FZRXM", "label": "负责人姓名", "type": "string", "personal": True, "mask": "name"},
            {"name": "FZRZJ", "label": "负责人证件号码", "type": "string", "personal": True, "mask": "id"},
            {"name": "FZRDH", "label": "负责人电话", "type": "string", "personal": True, "mask": "phone"},
            {"name": "JTDZ", "label": "负责人家庭住址", "type": "string", "personal": True},
            {"name": "SM", "label": "说明", "type": "text"},
        ]})
    catalogue.create_item(seeded, Actor.system(), spec)
    citizen_id = "11010519491231002X"
    submit(seeded, world, "HONOUR_CONTACT", {
        "RYMC": "2026年度诚信经营示范单位", "SYRQ": "2026-03-01", "FZRXM": "欧阳娜娜", "FZRZJ": citizen_id,
        "FZRDH": "13812345678", "JTDZ": "南京市玄武区某小区1栋", "SM": f"联系人张三，身份证{citizen_id}，手机13812345678"})
    body = public.get(f"/api/v1/public/subjects/{SUBJECT_CODE}").json()
    honour = next(s for s in body["sections"] if s["item_code"] == "HONOUR_CONTACT")["records"][0]
    fields = {f["name"]: f["value"] for f in honour["fields"]}
    assert fields["FZRXM"] == "欧阳**"
    assert fields["FZRZJ"] == "1101**********002X"
    assert fields["FZRDH"] == "138****5678"
    assert "JTDZ" not in fields  # personal without a mask rule: not published at all
    assert fields["SM"] == "联系人张三，身份证1101**********002X，手机138****5678"
    for path, text in every_public_response(public, [honour["id"]]):
        assert citizen_id not in text and "13812345678" not in text and "某小区" not in text, path


def test_natural_persons_are_masked_and_not_searchable(seeded: Session, world: World, public: TestClient) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, tzinfo=clock.SHANGHAI))
    person = SubjectRef(citizen_id="11010519491231002X", name="王小明")
    licence = submit(seeded, world, "ADM_LICENSE", licence_payload("宁玄食许〔2026〕12号"), ref=person)
    assert licence.record.published
    assert public.get("/api/v1/public/search", params={"q": "王小明"}).json()["total"] == 0
    listed = public.get("/api/v1/public/publicity/licences").json()["items"]
    assert [(r["subject_name"], r["subject_code"], r["subject_has_page"]) for r in listed] == [
        ("王**", "1101**********002X", False)]
    for path in ("/", "/publicity/licences", f"/publicity/records/{licence.record.id}",
                 f"/api/v1/public/records/{licence.record.id}"):
        text = public.get(path).text
        assert "王小明" not in text and "11010519491231002X" not in text, path


# --- bad input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["%", "_", "%%", "__", "\\", "'", '"', "' OR 1=1 --", "'; DROP TABLE subjects; --",
                                   "*", "华*", "NEAR(a b)", "a:b", "\t\n", "\u200b", "示范" * 30, "🙂🙂", "華為"])
def test_odd_queries_get_a_clear_answer(public: TestClient, query: str) -> None:
    response = public.get("/api/v1/public/search", params={"q": query})
    assert response.status_code in (200, 422), response.text
    body = response.json()
    if response.status_code == 422:
        assert body["error"]["code"].startswith("SEARCH_QUERY_")
    else:
        assert body["total"] == 0  # none of these is in the name 南京示范科技有限公司
    assert public.get("/search", params={"q": query}).status_code == 200


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/api/v1/public/search?q=", 422, "SEARCH_QUERY_EMPTY"),
    ("/api/v1/public/search?q=" + "长" * 61, 422, "SEARCH_QUERY_TOO_LONG"),
    ("/api/v1/public/search?q=%00%01", 422, "SEARCH_QUERY_EMPTY"),
    ("/api/v1/public/search?q=示范&page=0", 422, "PAGE_OUT_OF_RANGE"),
    ("/api/v1/public/search?q=示范&page=100000", 422, "PAGE_OUT_OF_RANGE"),
    ("/api/v1/public/search?q=示范&per_page=1000", 422, "PER_PAGE_OUT_OF_RANGE"),
    ("/api/v1/public/search?q=示范&page=abc", 422, "REQUEST_INVALID"),
    ("/api/v1/public/subjects/91320102MA1XY0Q0XX", 404, "SUBJECT_NOT_FOUND"),
    ("/api/v1/public/subjects/%25", 404, "SUBJECT_NOT_FOUND"),
    ("/api/v1/public/records/999999", 404, "RECORD_NOT_PUBLIC"),
    ("/api/v1/public/records/99999999999999999999", 422, "REQUEST_INVALID"),
    ("/api/v1/public/records/-1", 422, "REQUEST_INVALID"),
    ("/api/v1/public/publicity/secrets", 404, "PUBLICITY_KIND_UNKNOWN"),
    ("/api/v1/public/publicity/penalties?date_from=2026-13-01", 422, "DATE_INVALID"),
    ("/api/v1/public/publicity/penalties?date_from=2026-05-01&date_to=2026-01-01", 422, "DATE_RANGE_INVALID"),
    ("/api/v1/public/publicity/penalties?department=nope", 422, "DEPARTMENT_UNKNOWN"),
    ("/api/v1/public/publicity/penalties?region=32%25", 422, "REGION_INVALID"),
])
def test_bad_requests_get_a_coded_chinese_error(public: TestClient, path: str, status: int, code: str) -> None:
    response = public.get(path)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_paging_beyond_the_end_is_an_empty_page(public: TestClient, world: World) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, tzinfo=clock.SHANGHAI))
    body = public.get("/api/v1/public/search", params={"q": "示范", "page": 5}).json()
    assert body["items"] == [] and body["total"] == 1 and body["pages"] == 1
    listing = public.get("/api/v1/public/publicity/penalties", params={"page": 3}).json()
    assert listing["items"] == [] and listing["total"] == 1
    assert "该页没有结果" in public.get("/search", params={"q": "示范", "page": 5}).text
    for path in ("/publicity/penalties?page=0", "/publicity/nothing", "/credit/none", "/publicity/records/0"):
        assert 400 <= public.get(path).status_code < 500, path


def test_filters_of_the_double_publicity_lists(seeded: Session, world: World, public: TestClient) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, tzinfo=clock.SHANGHAI))
    submit(seeded, world, "ADM_PENALTY", {**penalty_payload("宁玄市监处罚〔2026〕3号"), "CF_CFLB": "没收违法所得",
                                          "CF_JDRQ": "2026-03-10"})

    def numbers(**params: str) -> list[str]:
        return [r["title"] for r in public.get("/api/v1/public/publicity/penalties", params=params).json()["items"]]

    assert numbers() == ["宁玄市监处罚〔2026〕3号", PENALTY_NUMBER]  # newest decision first
    assert numbers(category="罚款") == [PENALTY_NUMBER]
    assert numbers(date_from="2026-02-01") == ["宁玄市监处罚〔2026〕3号"]
    assert numbers(date_to="2026-02-01") == [PENALTY_NUMBER]
    assert numbers(department=DEPARTMENT_CODE, region="320102") == ["宁玄市监处罚〔2026〕3号", PENALTY_NUMBER]
    assert numbers(region="3205") == []
    page = public.get("/publicity/penalties", params={"category": "没收违法所得", "date_from": "", "region": ""})
    assert page.status_code == 200 and "宁玄市监处罚〔2026〕3号" in page.text and PENALTY_NUMBER not in page.text


# --- HTTP caching and rate limits ---------------------------------------------------------------------

def test_etags_answer_304_until_the_content_changes(public: TestClient, seeded: Session, world: World) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, tzinfo=clock.SHANGHAI))
    path = f"/api/v1/public/subjects/{SUBJECT_CODE}"
    first = public.get(path)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = public.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    submit(seeded, world, "ADM_PENALTY", penalty_payload("宁玄市监处罚〔2026〕4号"))
    changed = public.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    clock.freeze(ENDS)  # the window closing changes the content too
    assert public.get(path, headers={"If-None-Match": changed.headers["etag"]}).status_code == 200


def test_rate_limit_answers_429_with_retry_after(settings: Settings, world: World) -> None:
    limited = settings.model_copy(update={"public_rate_limit": 3})
    with TestClient(create_app(limited)) as client:
        codes = [client.get("/api/v1/public/publicity/penalties").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/api/v1/public/search", params={"q": "示范"})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "RATE_LIMITED"
        assert client.get("/publicity/penalties").status_code == 200  # pages are not the API
        other = client.get("/api/v1/public/publicity/penalties", headers={"Authorization": "Bearer other-client"})
        assert other.status_code != 429  # another client has its own bucket


def test_the_public_api_is_documented(public: TestClient) -> None:
    spec = public.get("/openapi.json").json()
    for path in ("/api/v1/public/search", "/api/v1/public/subjects/{code}", "/api/v1/public/records/{record_id}",
                 "/api/v1/public/publicity/{kind}"):
        operation = spec["paths"][path]["get"]
        assert {"304", "429"} <= set(operation["responses"]), path
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]


def test_the_catalogue_decides_whether_a_persons_name_is_published(seeded: Session, world: World,
                                                                   public: TestClient) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, tzinfo=clock.SHANGHAI))
    person = SubjectRef(citizen_id="11010519491231002X", name="王小明")
    execution = submit(seeded, world, "JUD_EXECUTION", {
        "AH": "(2026)苏0102执123号", "ZXFY": "南京市玄武区人民法院", "ZXYJWH": "(2025)苏0102民初456号",
        "LXQK": "全部未履行", "SXXW": "有履行能力而拒不履行生效法律文书确定义务", "FBRQ": "2026-03-03"}, ref=person)
    body = public.get(f"/api/v1/public/records/{execution.record.id}").json()
    assert (body["subject_name"], body["subject_code"]) == ("王小明", "1101**********002X")  # 失信被执行人: named
    assert "11010519491231002X" not in public.get(f"/publicity/records/{execution.record.id}").text


def test_subject_pages_are_cached_until_a_write_or_a_window_boundary(public: TestClient, seeded: Session,
                                                                      world: World,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from xinyong.disclosure import service as disclosure

    clock.freeze(ENDS - timedelta(minutes=2))
    built: list[int] = []
    real = disclosure._subject_view
    monkeypatch.setattr(disclosure, "_subject_view", lambda session, subject: built.append(subject.id) or real(
        session, subject))
    path = f"/api/v1/public/subjects/{SUBJECT_CODE}"
    first = public.get(path).json()
    assert public.get(path).json() == first and len(built) == 1  # served from the cache
    submit(seeded, world, "HONOUR", {"RYMC": "2026年度诚信示范企业", "SYJG": "南京市人民政府", "SYRQ": "2026-06-01",
                                     "RYJB": "市级"})
    assert "2026年度诚信示范企业" in public.get(path).text and len(built) == 2  # a write: rebuilt at once
    clock.freeze(ENDS)  # the penalty's window closes: rebuilt, not served stale
    assert PENALTY_NUMBER not in public.get(path).text and len(built) == 3


def test_public_reads_run_in_read_only_transactions(settings: Settings) -> None:
    from sqlalchemy import text

    from xinyong.db import read_session_factory

    with read_session_factory(settings)() as session:
        assert session.execute(text("SELECT count(*) FROM subjects")).scalar() == 0
        if session.get_bind().dialect.name == "postgresql":
            with pytest.raises(Exception, match="read-only"):
                session.execute(text("INSERT INTO policy_parameters (key, label, source, value, updated_at, updated_by)"
                                     " VALUES ('x', 'x', 'x', '{}', now(), 'x')"))


def test_cached_pages_keep_headers_conditional_gets_and_rate_limits(settings: Settings, world: World) -> None:
    limited = settings.model_copy(update={"public_rate_limit": 4})
    path = f"/api/v1/public/subjects/{SUBJECT_CODE}"
    with TestClient(create_app(limited)) as client:
        first = client.get(path)  # a miss: the application builds and caches the page
        cached = client.get(path)  # a hit: answered by disclosure.fastpath
        assert cached.content == first.content and cached.headers["etag"] == first.headers["etag"]
        for name in ("x-content-type-options", "x-frame-options", "referrer-policy", "cache-control"):
            assert cached.headers[name] == first.headers[name]
        assert cached.headers["content-type"] == "application/json"
        assert client.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
        assert client.get(f"{path}/extra").status_code == 404  # not a subject page: the application answers
        assert client.get(path).status_code == 200  # the fourth of four tokens this minute
        refused = client.get(path)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "RATE_LIMITED"
        assert int(refused.headers["retry-after"]) >= 1
