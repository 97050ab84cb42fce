"""Collection over HTTP: the JSON batch API (with an API token), file upload in the background, the
web upload page, batch pages, error-report downloads, and one department kept out of another's batches."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support import ingest_files as F
from tests.support.world import PASSWORD, World
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.config import Settings
from xinyong.db import session_factory
from xinyong.ingest import service
from xinyong.records import service as record_service
from xinyong.records.models import Record

Clients = Callable[[str], TestClient]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _json_rows(rows: list[F.Row]) -> list[dict[str, object]]:
    """Rows as an information system posts them: amounts as JSON numbers, empty cells as null."""
    out = []
    for row in rows:
        item: dict[str, object] = {column: (value if value != "" else None) for column, value in row.items()}
        amount = row[F.CF_NR_FK]
        if amount and amount.replace(".", "", 1).isascii() and amount.replace(".", "", 1).isdigit():
            item[F.CF_NR_FK] = json.loads(amount)
        out.append(item)
    return out


def _today() -> str:
    return clock.today().isoformat()  # on time: no timeliness flags in these tests


def _error(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    return body["error"]


@pytest.fixture
def token_client(client_for: Clients, seeded: Session, world: World) -> TestClient:
    """An information system of the department, calling the API with a token (no login)."""
    user = seeded.scalar(select(User).where(User.username == world.usernames["department_submitter"]))
    assert user is not None
    _, raw = access.issue_token(seeded, Actor.system(), user, "执法办案系统", ["records:submit", "ingest:read"], None)
    seeded.commit()
    client = client_for("public")
    client.headers["Authorization"] = f"Bearer {raw}"
    return client


@pytest.fixture
def other_batch(seeded: Session, settings: Settings, tmp_path: Path) -> int:
    """A finished batch of another department (秦淮区市场监管局)."""
    department = access.create_department(seeded, code=F.OTHER_DEPARTMENT_CODE, name=F.OTHER_DEPARTMENT_NAME,
                                          short_name="秦淮区市场监管局", region_code="320104", sector="市场监管")
    user = access.create_user(seeded, Actor.system(), access.NewUser(
        "qhjg", PASSWORD, "department_submitter", "秦淮区市场监管局", department_id=department.id))
    rows = F.inject(F.penalty_rows(2, start=900, department_name=F.OTHER_DEPARTMENT_NAME,
                                   department_code=F.OTHER_DEPARTMENT_CODE), {0: "enum"})
    path = F.write_rows(tmp_path, "csv-utf8", rows, name="秦淮")
    batch = service.submit_file(seeded, access.actor_for(user), "ADM_PENALTY", path, path.name)
    seeded.commit()
    service.run_batch(session_factory(settings), batch.id)
    return batch.id


# --- API -------------------------------------------------------------------------------------------


def test_the_json_batch_api_validates_every_record_and_is_idempotent(token_client: TestClient,
                                                                      seeded: Session) -> None:
    rows = F.inject(F.penalty_rows(5, start=300, decision_date=_today()), {1: "bad_date", 3: "check_digit"})
    rows[2][F.CF_NR_FK] = "12.5"
    body = {"item": "ADM_PENALTY", "records": _json_rows(rows)}
    before = record_service.count(seeded)
    seeded.commit()
    created = token_client.post("/api/v1/ingest/records", json=body)
    assert created.status_code == 201, created.text
    batch = created.json()
    assert (batch["status"], batch["total_rows"], batch["accepted"], batch["rejected"]) == ("done", 5, 3, 2)
    assert batch["file_format"] == "ndjson"

    status = token_client.get(f"/api/v1/ingest/batches/{batch['id']}")
    assert status.status_code == 200 and status.json()["processed_rows"] == 5
    rows_out = token_client.get(f"/api/v1/ingest/batches/{batch['id']}/rows")
    assert rows_out.status_code == 200
    by_row = {row["row_number"]: row for row in rows_out.json()}  # the record's position in "records", from 1
    assert sorted(by_row) == [2, 4]
    assert [p["code"] for p in by_row[2]["problems"]] == ["FIELD_DATE"]
    assert [(p["field"], p["code"]) for p in by_row[4]["problems"]] == [("__uscc", "USCC_CHECK_DIGIT")]
    assert token_client.get(f"/api/v1/ingest/batches/{batch['id']}/rows", params={"outcome": "duplicate"}).json() == []
    stored = seeded.scalar(select(Record).where(Record.batch_id == batch["id"], Record.source_row == 3))
    assert stored is not None and stored.payload["CF_NR_FK"] == "12.5"  # a JSON number, kept as sent
    seeded.commit()

    again = token_client.post("/api/v1/ingest/records", json=body)
    assert again.status_code == 201 and again.json()["id"] == batch["id"]
    assert record_service.count(seeded) == before + 3
    seeded.commit()

    bad = token_client.post("/api/v1/ingest/records", json={"item": "ADM_PENALTY", "records": []})
    assert bad.status_code == 422


def test_a_file_uploaded_to_the_api_is_imported_in_the_background(token_client: TestClient) -> None:
    rows = F.inject(F.penalty_rows(6, start=400, decision_date=_today()), {4: "future_date"})
    data = F.csv_bytes(rows, encoding="gbk")
    response = token_client.post("/api/v1/ingest/batches", data={"item": "ADM_PENALTY"},
                                 files={"file": ("行政处罚.csv", data, "text/csv")})
    assert response.status_code == 202, response.text
    submitted = response.json()
    assert submitted["status"] == "pending" and submitted["encoding"] == "gb18030"
    status = token_client.get(f"/api/v1/ingest/batches/{submitted['id']}").json()  # the task ran after the response
    assert (status["status"], status["accepted"], status["rejected"]) == ("done", 5, 1)
    rejected = token_client.get(f"/api/v1/ingest/batches/{submitted['id']}/rows", params={"outcome": "rejected"})
    row, = rejected.json()
    assert row["row_number"] == 6 and row["problems"][0]["code"] == "DECISION_DATE_FUTURE"

    header = [*F.PENALTY_HEADER, "经办人"]
    refused = token_client.post("/api/v1/ingest/batches", data={"item": "ADM_PENALTY"},
                                files={"file": ("带经办人.csv", F.csv_bytes(rows, header=header), "text/csv")})
    assert refused.status_code == 202
    assert (refused.json()["status"], refused.json()["error_code"]) == ("failed", "FILE_UNKNOWN_COLUMNS")


def test_a_department_cannot_see_another_departments_batch(client_for: Clients, other_batch: int) -> None:
    mine = client_for("department_submitter")
    for url in (f"/api/v1/ingest/batches/{other_batch}", f"/api/v1/ingest/batches/{other_batch}/rows"):
        response = mine.get(url)
        assert response.status_code == 403 and _error(response)["code"] == "BATCH_NOT_YOURS"
    for url in (f"/ingest/batches/{other_batch}", f"/ingest/batches/{other_batch}/errors.csv"):
        response = mine.get(url)
        assert response.status_code == 403 and "BATCH_NOT_YOURS" in response.text
    admin = client_for("authority_admin")
    assert admin.get(f"/api/v1/ingest/batches/{other_batch}").json()["rejected"] == 1
    assert admin.get(f"/ingest/batches/{other_batch}/errors.csv").status_code == 200


# --- web pages -------------------------------------------------------------------------------------


def test_upload_page_flow_with_progress_counts_and_error_reports(client_for: Clients) -> None:
    client = client_for("department_submitter")
    assert client.get("/ingest").status_code == 200
    rows = F.inject(F.penalty_rows(5, start=500, decision_date=_today()), {0: "enum", 2: {F.CF_WFXW: "=cmd|' /C calc'!A0", F.CF_JDRQ: "昨天"}})
    data = _xlsx_bytes(rows)
    posted = client.post("/ingest", data={"item": "ADM_PENALTY"}, files={"file": ("行政处罚.xlsx", data, XLSX)},
                         follow_redirects=False)
    assert posted.status_code == 303, posted.text
    location = posted.headers["location"]
    assert location.startswith("/ingest/batches/")
    page = client.get(location)
    assert page.status_code == 200
    text = page.text
    assert "<td>3</td><td>0</td><td>0</td><td>0</td><td>2</td>" in text.replace("\n", "").replace(" ", "")
    assert "已处理 5 / 5 行" in text and "FIELD_ENUM" in text and "FIELD_DATE" in text
    fragment = client.get(location, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'id="progress"' in fragment.text and "<html" not in fragment.text

    xlsx = client.get(f"{location}/errors.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX
    frame = pl.read_excel(io.BytesIO(xlsx.content), infer_schema_length=0)
    assert frame.columns == [*F.PENALTY_HEADER, "原行号", "处理结果", "错误代码", "错误说明"]
    assert frame["原行号"].to_list() == ["2", "4"]
    assert frame[F.CF_WFXW].to_list()[1] == "'=cmd|' /C calc'!A0"

    exported = client.get(f"{location}/errors.csv")
    assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in exported.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"), newline="")))
    assert [line[len(F.PENALTY_HEADER)] for line in lines[1:]] == ["2", "4"]
    assert lines[2][F.PENALTY_HEADER.index(F.CF_WFXW)] == "'=cmd|' /C calc'!A0"
    assert client.get(f"{location}/errors.pdf").status_code == 422

    # the same file again: the same batch, nothing new
    again = client.post("/ingest", data={"item": "ADM_PENALTY"}, files={"file": ("再次.xlsx", data, XLSX)},
                        follow_redirects=False)
    assert again.headers["location"] == location


def _xlsx_bytes(rows: list[F.Row]) -> bytes:
    with tempfile.TemporaryDirectory() as directory:
        return F.write_xlsx(Path(directory) / "upload.xlsx", rows).read_bytes()
