"""Upward feed: a district platform publishes by cursor, a provincial platform pulls and applies.

The district is the fixture database (both backends); the two-instance tests serve it with a real
uvicorn server on 127.0.0.1 and pull into a separate provincial SQLite database.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.conftest import make_settings
from tests.support.world import DEPARTMENT_CODE, SUBJECT_CODE, World, penalty_payload
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.app import create_app
from xinyong.audit.models import AuditEntry
from xinyong.catalogue import service as catalogue
from xinyong.config import Settings
from xinyong.db import Base, get_engine, import_all_models, session_factory
from xinyong.feed import service as feed
from xinyong.feed.cli import feed_app as feed_cli
from xinyong.feed.models import FeedFailure, FeedSource
from xinyong.feed.routes import router as feed_router
from xinyong.ingest import service as ingest
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import uscc

SUBJECT = SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司")
OTHER_SUBJECT_CODE = uscc.build("9", "1", "320102", "MA1XY0Q7")
PERSON_ID = "11010519491231002X"


# --- helpers --------------------------------------------------------------------------------------

def feed_app(settings: Settings) -> FastAPI:
    """The app with the feed router (mounted here too until app.py includes it)."""
    app = create_app(settings)
    if not any(getattr(route, "path", "") == "/api/v1/feed/records" for route in app.routes):
        app.include_router(feed_router)
    return app


def submitter(session: Session) -> Actor:
    user = next(u for u in access.users(session) if u.username == "scjg")
    return access.actor_for(user)


def submit(session: Session, world: World, payload: dict[str, Any], ref: SubjectRef = SUBJECT) -> records.Submission:
    return records.submit(session, submitter(session), "ADM_PENALTY", ref, payload,
                          department_id=world.department_id, department_code=DEPARTMENT_CODE)


def peer_token(session: Session) -> str:
    user = session.scalar(select(User).where(User.role == "peer_platform"))
    assert user is not None
    _token, raw = access.issue_token(session, Actor.system(), user, "省级平台", ["feed:read"], None)
    session.commit()
    return raw


def feed_reads(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "feed.read").order_by(AuditEntry.seq)))


# --- publishing -----------------------------------------------------------------------------------

def test_changes_page_by_cursor_and_name_everything_by_code(seeded: Session, world: World) -> None:
    second = submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕2号"))
    correction = submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕2号", amount="5"))
    revocation = records.revoke(seeded, submitter(seeded), world.record_id, "复议决定撤销原处罚")
    seeded.commit()

    first_page = feed.changes(seeded, 0, 2)
    assert [e.feed_id for e in first_page] == [world.record_id, second.record.id]
    rest = feed.changes(seeded, first_page[-1].feed_id, 1000)
    assert [e.feed_id for e in rest] == [correction.record.id, revocation.id]
    assert feed.changes(seeded, revocation.id, 1000) == []

    original, fix, revoked = first_page[0], rest[0], rest[1]
    assert (original.operation, original.operation_label, original.supersedes) == ("original", "新增", None)
    assert (original.department_code, original.department_name) == (DEPARTMENT_CODE, "南京市玄武区市场监督管理局")
    assert (original.subject_uscc, original.subject_name, original.person) == (SUBJECT_CODE, "南京示范科技有限公司", False)
    assert original.item_code == "ADM_PENALTY" and original.natural_key == "宁玄市监处罚〔2026〕1号"
    assert original.payload == penalty_payload() and original.decision_date.isoformat() == "2026-01-05"
    assert original.received_at.utcoffset().total_seconds() == 8 * 3600
    assert (fix.operation_label, fix.supersedes, fix.payload["CF_NR_FK"]) == ("更正", second.record.id, "5")
    assert (revoked.operation_label, revoked.supersedes, revoked.reason) == ("撤销", world.record_id, "复议决定撤销原处罚")
    assert revoked.natural_key == original.natural_key


def test_a_page_says_whether_more_follows_and_every_read_is_audited(seeded: Session, world: World) -> None:
    submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕2号"))
    seeded.commit()
    reader = access.actor_for(seeded.scalar(select(User).where(User.role == "peer_platform")))
    page = feed.read_changes(seeded, reader, 0, 1)
    assert (len(page.entries), page.next_cursor, page.has_more) == (1, world.record_id, True)
    page = feed.read_changes(seeded, reader, page.next_cursor, 1)
    assert (len(page.entries), page.has_more) == (1, False)
    assert feed.read_changes(seeded, reader, page.next_cursor, 1).entries == []
    reads = feed_reads(seeded)
    assert [r.detail["after"] for r in reads] == [0, world.record_id, page.next_cursor]
    assert {r.actor for r in reads} == {"u_peer_platform"}


def test_natural_persons_leave_only_as_masked_id_and_name(seeded: Session, world: World) -> None:
    submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕9号"), SubjectRef(citizen_id=PERSON_ID, name="张三"))
    seeded.commit()
    entry = feed.changes(seeded, world.record_id, 10)[0]
    assert (entry.person, entry.subject_uscc, entry.masked_id, entry.subject_name) == (True, None, "1101**********002X", "张三")
    text = entry.model_dump_json()
    assert PERSON_ID not in text and "person_key" not in text


def test_the_feed_waits_for_a_young_gap_in_ids(seeded: Session, world: World) -> None:
    """On PostgreSQL a lower id may commit after a higher one: the feed does not step over it."""
    later = submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕3号"))
    seeded.flush()
    later.record.id = world.record_id + 5  # as if ids in between were still being committed
    seeded.commit()
    assert [e.feed_id for e in feed.changes(seeded, 0, 100)] == [world.record_id]
    later.record.received_at -= feed.GAP_SETTLE * 2  # a gap that old is a rolled-back transaction
    seeded.commit()
    assert [e.feed_id for e in feed.changes(seeded, 0, 100)] == [world.record_id, world.record_id + 5]


def _export(session: Session, fmt: str, **options: Any) -> bytes:
    reader = access.actor_for(session.scalar(select(User).where(User.role == "peer_platform")))
    handle = io.BytesIO()
    feed.export(session, reader, "ADM_PENALTY", handle, fmt=fmt, **options)
    return handle.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_the_export_is_a_file_collection_accepts(fmt: str, seeded: Session, world: World, settings: Settings,
                                                tmp_path: Path) -> None:
    corrected = submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕2号"))
    submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕2号", amount="7"))
    records.revoke(seeded, submitter(seeded), world.record_id, "复议决定撤销原处罚")
    submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕3号"), SubjectRef(uscc=OTHER_SUBJECT_CODE, name="南京另一家有限公司"))
    submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕9号"), SubjectRef(citizen_id=PERSON_ID, name="张三"))
    seeded.commit()

    data = _export(seeded, fmt)
    if fmt == "csv":
        assert data.startswith("\ufeff行政相对人名称,统一社会信用代码,法定代表人,行政处罚决定书文号".encode())
    else:
        assert json.loads(data.splitlines()[0])["行政处罚决定书文号"] == "宁玄市监处罚〔2026〕2号"
    assert data.decode("utf-8-sig").count("宁玄市监处罚") == 2  # current organisation records: 2号 (corrected), 3号
    assert "张三" not in data.decode("utf-8-sig")  # persons cannot leave with their ID
    assert _export(seeded, fmt, after=corrected.record.id + 1).decode("utf-8-sig").count("〔2026〕3号") == 1

    receiver = access.create_department(seeded, code=uscc.build("1", "1", "320000", "01400009"), name="江苏省市场监督管理局",
                                        short_name="省市场监管局", region_code="320000", sector="市场监管")
    assert _export(seeded, fmt, department_code=receiver.code).decode("utf-8-sig").count("宁玄市监处罚") == 0
    actor = Actor(user_id=None, username="省市场监管局", role="department_submitter", department_id=receiver.id)
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(data)
    batch = ingest.submit_file(seeded, actor, "ADM_PENALTY", path, path.name, channel="cli")
    seeded.commit()
    batch = ingest.run_batch(session_factory(settings), batch.id)
    assert (batch.status, batch.total_rows, batch.rejected, batch.accepted + batch.flagged) == ("done", 2, 0, 2)
    imported = sorted((r.natural_key, r.payload["CF_NR_FK"]) for r in seeded.scalars(
        select(Record).where(Record.department_id == receiver.id)))
    assert imported == [("宁玄市监处罚〔2026〕2号", "7"), ("宁玄市监处罚〔2026〕3号", "2")]


def test_feed_routes_admit_the_peer_platform_and_refuse_departments(settings: Settings, world: World,
                                                                    seeded: Session) -> None:
    token = peer_token(seeded)
    with TestClient(feed_app(settings)) as client:
        peer = {"Authorization": f"Bearer {token}"}
        page = client.get("/api/v1/feed/records", params={"after": 0, "limit": 10}, headers=peer)
        assert page.status_code == 200, page.text
        assert page.json()["next_cursor"] == world.record_id and page.json()["has_more"] is False
        assert page.json()["entries"][0]["received_at"].endswith("+08:00")
        exported = client.get("/api/v1/feed/export", params={"item": "ADM_PENALTY", "format": "csv"}, headers=peer)
        assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf")
        assert exported.headers["content-type"].startswith("text/csv")
        assert client.get("/api/v1/feed/records", params={"limit": 5001}, headers=peer).status_code == 422
        assert client.get("/api/v1/feed/export", params={"item": "NOPE"}, headers=peer).status_code == 404

        assert client.get("/api/v1/feed/records").status_code == 401
        client.post("/login", data={"username": "scjg", "password": "Xinyong2026"})
        denied = client.get("/api/v1/feed/records")
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "PERMISSION_DENIED"
        assert client.get("/api/v1/feed/export", params={"item": "ADM_PENALTY"}).status_code == 403
    assert [r.object_id for r in feed_reads(seeded)] == ["records", "export:ADM_PENALTY"]


# --- two instances --------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def district_url(settings: Settings, world: World) -> Iterator[str]:
    """The fixture database served by a real uvicorn server in a background thread."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(feed_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "district server did not start"
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@dataclass
class Province:
    factory: sessionmaker[Session]

    def chain(self, natural_key: str) -> list[Record]:
        with self.factory() as session:
            return list(session.scalars(select(Record).where(Record.natural_key == natural_key).order_by(Record.id)))

    def current(self) -> dict[str, dict[str, Any]]:
        with self.factory() as session:
            return {r.natural_key: r.payload for r in session.scalars(records.current_query())}

    def source(self) -> FeedSource:
        with self.factory() as session:
            return session.scalars(select(FeedSource)).one()


@pytest.fixture
def province(tmp_path: Path) -> Province:
    """A second platform: its own SQLite database, seeded, never the process-wide settings."""
    own = make_settings(f"sqlite:///{tmp_path / 'province.db'}", tmp_path / "province")
    import_all_models()
    Base.metadata.create_all(get_engine(own))
    factory = session_factory(own)
    with factory.begin() as session:
        policy.seed(session)
        catalogue.seed(session, Actor.system())
    return Province(factory)


def test_a_province_follows_a_district_through_correction_and_revocation(
        seeded: Session, world: World, district_url: str, province: Province) -> None:
    token = peer_token(seeded)
    key = "宁玄市监处罚〔2026〕1号"

    first = feed.pull(province.factory, district_url, token)
    assert (first.received, first.applied, first.failed, first.cursor) == (1, 1, 0, world.record_id)
    assert province.current() == {key: penalty_payload()}

    correction = submit(seeded, world, penalty_payload(amount="3"))
    seeded.commit()
    second = feed.pull(province.factory, district_url, token)
    assert (second.applied, second.cursor) == (1, correction.record.id)
    original, fix = province.chain(key)
    assert (fix.kind, fix.supersedes_id, fix.payload["CF_NR_FK"]) == ("correction", original.id, "3")
    assert province.current() == {key: penalty_payload(amount="3")}

    revocation = records.revoke(seeded, submitter(seeded), correction.record.id, "复议决定撤销原处罚")
    seeded.commit()
    third = feed.pull(province.factory, district_url, token)
    assert (third.applied, third.cursor) == (1, revocation.id)
    assert [r.kind for r in province.chain(key)] == ["original", "correction", "revocation"]
    assert province.chain(key)[-1].reason == "复议决定撤销原处罚"
    assert province.current() == {}

    again = feed.pull(province.factory, district_url, token)
    assert (again.received, again.applied, again.failed, again.cursor) == (0, 0, 0, revocation.id)
    assert len(province.chain(key)) == 3
    assert (province.source().applied, province.source().failed) == (3, 0)


class DroppingTransport(httpx.HTTPTransport):
    """Answers ``answers`` requests, then the connection drops (the puller dies between pages)."""

    def __init__(self, answers: int) -> None:
        super().__init__()
        self.answers = answers

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.answers == 0:
            raise httpx.ConnectError("connection reset by peer", request=request)
        self.answers -= 1
        return super().handle_request(request)


def test_a_pull_interrupted_between_or_inside_pages_ends_with_every_record_once(
        seeded: Session, world: World, district_url: str, province: Province,
        monkeypatch: pytest.MonkeyPatch) -> None:
    token = peer_token(seeded)
    numbers = [f"宁玄市监处罚〔2026〕{n}号" for n in range(10, 17)]
    last_id = max(submit(seeded, world, penalty_payload(number)).record.id for number in numbers)
    seeded.commit()

    with httpx.Client(transport=DroppingTransport(answers=1)) as dropping, pytest.raises(feed.FeedSourceError):
        feed.pull(province.factory, district_url, token, http=dropping, page=3)
    assert (province.source().cursor, len(province.current())) == (world.record_id + 2, 3)  # the first page stays

    calls = {"n": 0}
    real_submit = records.submit

    def dies_on_the_second(*args: Any, **kwargs: Any) -> records.Submission:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed while applying a page")
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(records, "submit", dies_on_the_second)
    cursor = province.source().cursor
    with pytest.raises(RuntimeError):
        feed.pull(province.factory, district_url, token, page=3)
    assert province.source().cursor == cursor and len(province.current()) == 3  # the page left no trace
    monkeypatch.setattr(records, "submit", real_submit)

    done = feed.pull(province.factory, district_url, token, page=3)
    assert (done.failed, province.source().cursor) == (0, last_id)
    assert sorted(province.current()) == sorted(["宁玄市监处罚〔2026〕1号", *numbers])
    with province.factory() as session:
        per_key = dict(session.execute(select(Record.natural_key, func.count()).group_by(Record.natural_key)).all())
    assert set(per_key.values()) == {1}
    assert feed.pull(province.factory, district_url, token).received == 0


def test_entries_the_province_refuses_are_recorded_and_passed(
        seeded: Session, world: World, district_url: str, province: Province) -> None:
    with province.factory.begin() as session:  # the province requires 法定代表人 on penalties
        spec = catalogue.spec_of(catalogue.get_item(session, "ADM_PENALTY"))
        fields = [f.model_copy(update={"required": True}) if f.name == "CF_FDDB" else f for f in spec.fields]
        catalogue.revise_item(session, Actor.system(), "ADM_PENALTY", spec.model_copy(update={"fields": fields}),
                              "法定代表人改为必填")
    submit(seeded, world, {**penalty_payload("宁玄市监处罚〔2026〕2号"), "CF_FDDB": "王五"})
    submit(seeded, world, penalty_payload("宁玄市监处罚〔2026〕3号"), SubjectRef(citizen_id=PERSON_ID, name="张三"))
    seeded.commit()
    token = peer_token(seeded)

    result = feed.pull(province.factory, district_url, token)
    assert (result.received, result.applied, result.failed) == (3, 1, 2)
    assert list(province.current()) == ["宁玄市监处罚〔2026〕2号"]
    with province.factory() as session:
        failures = session.scalars(select(FeedFailure).order_by(FeedFailure.feed_id)).all()
        assert [(f.feed_id, f.code) for f in failures] == [(world.record_id, "FIELD_REQUIRED"),
                                                          (world.record_id + 2, "FEED_PERSON_NOT_TRANSFERABLE")]
        assert "法定代表人" in failures[0].message and failures[0].source_url == district_url
    assert (province.source().cursor, province.source().failed) == (world.record_id + 2, 2)
    assert feed.pull(province.factory, district_url, token).received == 0


def test_a_pull_refused_by_the_district_says_why(seeded: Session, world: World, district_url: str,
                                                province: Province) -> None:
    with pytest.raises(feed.FeedSourceError, match="TOKEN_INVALID"):
        feed.pull(province.factory, district_url, "xy_not-a-token")
    assert province.source().cursor == 0



def test_the_cli_refuses_a_bad_address_and_lists_sources(settings: Settings) -> None:
    runner = CliRunner()
    refused = runner.invoke(feed_cli, ["pull", "--from", "ftp://xuanwu.example", "--token", "t"])
    assert refused.exit_code == 2 and "FEED_SOURCE_URL_INVALID" in refused.output
    listed = runner.invoke(feed_cli, ["status"])
    assert listed.exit_code == 0 and "下级平台" in listed.output
