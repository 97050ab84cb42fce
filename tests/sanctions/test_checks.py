"""Joint checks (联合奖惩核查) and feedback (反馈): exactly the measures that apply, for that matter, now;
every check recorded whole or not at all; feedback only by the department that checked."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.sanctions import (
    ADMIN,
    Cast,
    abnormal,
    build_cast,
    citizen_id,
    company,
    count,
    grade_run,
    judgment_debtor,
    masked,
    penalty,
    person_ref,
    refused,
    serious,
)
from tests.support.world import World
from xinyong import clock
from xinyong.audit import service as audit
from xinyong.errors import DomainError
from xinyong.ingest.readers import FileProblem
from xinyong.sanctions import checks, service
from xinyong.sanctions.models import CheckFeedback, CheckHit, CheckSubject, JointCheck
from xinyong.sanctions.schemas import EntryIn, ExitIn, FeedbackIn

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture
def cast(world: World, sanctioned: Session) -> Cast:
    clock.freeze(NOW)
    return build_cast(sanctioned, world)


def applied(session: Session, check: JointCheck, position: int = 1) -> dict[str, list[str]]:
    """Measure code -> trigger labels for one subject of a check."""
    _, [view] = checks.subject_rows(session, check, limit=1, offset=position - 1)
    return {h.measure.code: [t["label"] for t in h.hit.triggers] for h in view.hits}


def check_one(session: Session, cast: Cast, matter: str, code: str) -> JointCheck:
    return checks.check_codes(session, cast.applier, matter, [code], channel="single")



# --- exactly the measures that apply ---------------------------------------------------------------------

def test_a_general_list_triggers_only_the_measures_that_name_it_for_that_matter(sanctioned: Session, cast: Cast) -> None:
    code = company(1)
    abnormal(sanctioned, cast, code)
    check = check_one(sanctioned, cast, "GOV_PROCUREMENT", code)
    found = applied(sanctioned, check)
    # 《企业信息公示暂行条例》第十八条 names the 经营异常名录; the procurement ban names only serious lists.
    assert set(found) == {"M_ENTERPRISE_INFO_RESTRICT"}
    assert found["M_ENTERPRISE_INFO_RESTRICT"] == ["列入经营异常名录（宁玄市监企异字〔2026〕第1号）"]
    assert (check.subjects, check.punished, check.rewarded, check.hits) == (1, 1, 0, 1)
    _, [view] = checks.subject_rows(sanctioned, check)
    basis = service.bases_by_id(sanctioned)[view.hits[0].measure.basis_id]
    assert (basis.title, basis.level, view.hits[0].measure.basis_article) == ("《企业信息公示暂行条例》", "行政法规", "第十八条")
    assert applied(sanctioned, check_one(sanctioned, cast, "FINANCING", code)) == {}  # no measure for that matter


def test_a_general_record_never_triggers_a_measure_reserved_for_serious_ones(sanctioned: Session, cast: Cast) -> None:
    code = company(2)
    penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕21号")  # 一般, published for 3–12 months
    assert set(applied(sanctioned, check_one(sanctioned, cast, "BIDDING", code))) == {"M_BID_CREDIT_REFERENCE"}
    assert applied(sanctioned, check_one(sanctioned, cast, "ADMIN_APPROVAL", code)) == {}  # M_APPROVAL_SCRUTINY: 严重 only
    penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕22号", severity="严重")
    found = applied(sanctioned, check_one(sanctioned, cast, "ADMIN_APPROVAL", code))
    assert list(found) == ["M_APPROVAL_SCRUTINY"] and len(found["M_APPROVAL_SCRUTINY"]) == 1
    assert found["M_APPROVAL_SCRUTINY"][0].startswith("严重失信记录")


def test_a_serious_list_triggers_its_measures_with_their_legal_basis(sanctioned: Session, cast: Cast) -> None:
    code = company(3)
    serious(sanctioned, cast, code, "政府采购严重违法失信行为记录")
    found = applied(sanctioned, check_one(sanctioned, cast, "GOV_PROCUREMENT", code))
    assert set(found) == {"M_PROCUREMENT_BAN"}
    found = applied(sanctioned, check_one(sanctioned, cast, "FISCAL_FUNDS", code))
    assert set(found) == {"M_LOCAL_FISCAL_FUNDS"}


def test_measures_stop_the_instant_the_entry_expires_or_leaves(sanctioned: Session, cast: Cast) -> None:
    code = company(4)
    serious(sanctioned, cast, code, "重大税收违法失信主体", until=date(2026, 12, 31))
    assert "M_PROCUREMENT_BAN" in applied(sanctioned, check_one(sanctioned, cast, "GOV_PROCUREMENT", code))
    clock.freeze(datetime(2027, 1, 1, 0, 0, tzinfo=clock.SHANGHAI))
    assert applied(sanctioned, check_one(sanctioned, cast, "GOV_PROCUREMENT", code)) == {}
    clock.freeze(NOW)
    other = company(5)
    serious(sanctioned, cast, other, number="宁市监严列〔2026〕9号")
    [entry] = service.entries(sanctioned, list_code="SAMR_SERIOUS_VIOLATION", in_force_only=True)[1]
    service.exit_entry(sanctioned, cast.market, entry.entry.id, ExitIn(reason="fulfilled", note="已履行行政处罚义务"))
    assert applied(sanctioned, check_one(sanctioned, cast, "GOV_PROCUREMENT", other)) == {}


def test_a_retired_measure_no_longer_applies_but_old_checks_keep_it(sanctioned: Session, cast: Cast) -> None:
    code = company(6)
    abnormal(sanctioned, cast, code)
    before = check_one(sanctioned, cast, "GOV_PROCUREMENT", code)
    service.retire_measure(sanctioned, ADMIN, "M_ENTERPRISE_INFO_RESTRICT", "测试废止")
    assert applied(sanctioned, check_one(sanctioned, cast, "GOV_PROCUREMENT", code)) == {}
    assert set(applied(sanctioned, before)) == {"M_ENTERPRISE_INFO_RESTRICT"}


def test_red_list_and_top_grade_bring_incentives(sanctioned: Session, cast: Cast) -> None:
    code = company(7)
    abnormal(sanctioned, cast, company(8))
    honoured = penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕7号").record.subject_id  # registers it
    service.add_entry(sanctioned, cast.development, EntryIn(
        list_type="RED_HONOUR", subject_code=code, decision_number="宁信用办〔2026〕3号", decision_date=date(2026, 5, 20),
        reasons="诚信建设示范企业"))
    grade_run(sanctioned, "PUBLIC_CREDIT_ORG", {honoured: "A"})
    check = check_one(sanctioned, cast, "ADMIN_APPROVAL", code)
    found = applied(sanctioned, check)
    assert set(found) == {"I_FAST_TRACK"}
    assert found["I_FAST_TRACK"] == ["列入诚信建设示范（守信激励对象）名单（宁信用办〔2026〕3号）",
                                     "公共信用综合评价（法人和非法人组织）等级 A"]
    assert (check.punished, check.rewarded) == (0, 1)
    both = check_one(sanctioned, cast, "BIDDING", code)  # 一般 penalty (punish) and red list (reward)
    assert both.punished == 1 and both.rewarded == 1
    _, [view] = checks.subject_rows(sanctioned, both)
    assert view.row.outcome == "both" and [h.measure.code for h in view.incentives] == ["I_DEPOSIT_RELIEF"]


def test_natural_persons_are_restricted_only_by_their_lists_and_rewarded_by_evaluation(sanctioned: Session, cast: Cast) -> None:
    debtor = judgment_debtor(sanctioned, cast, person_ref(11, "李四")).record.subject_id
    found = applied(sanctioned, check_one(sanctioned, cast, "HIGH_CONSUMPTION", citizen_id(11)))
    assert set(found) == {"M_HIGH_CONSUMPTION"}
    check = check_one(sanctioned, cast, "BIDDING", citizen_id(11))
    assert set(applied(sanctioned, check)) == {"M_DEBTOR_BIDDING"}
    _, [view] = checks.subject_rows(sanctioned, check)
    assert view.row.given_code == masked(11) and view.name == "李*"  # never the ID or full name in clear
    grade_run(sanctioned, "PUBLIC_CREDIT_ORG", {debtor: "D"})
    grade_run(sanctioned, "PERSON_INCENTIVE", {debtor: "A"})
    assert set(applied(sanctioned, check_one(sanctioned, cast, "PUBLIC_SERVICE", citizen_id(11)))) == {"I_PERSON_SERVICES"}


# --- batches: report, don't fail ----------------------------------------------------------------------

def bidders(session: Session, cast: Cast) -> list[str]:
    listed, clean = company(20), company(21)
    abnormal(session, cast, listed)
    penalty(session, cast, clean, number="宁玄市监处罚〔2025〕1号", on=date(2024, 1, 5))  # window over: clean now
    return [listed, clean, company(22), "91320100ABCDEFGHIJ", citizen_id(12)]


def test_unknown_and_invalid_codes_are_reported_per_row_and_the_batch_goes_on(sanctioned: Session, cast: Cast) -> None:
    codes = bidders(sanctioned, cast)
    check = checks.check_codes(sanctioned, cast.applier, "BIDDING", codes, matter_reference="NJGG2026-0815")
    _, views = checks.subject_rows(sanctioned, check)
    assert [(v.row.position, v.row.outcome) for v in views] == [
        (1, "punish"), (2, "clean"), (3, "unknown"), (4, "invalid"), (5, "unknown")]
    assert views[4].row.given_code == masked(12)
    assert (check.subjects, check.unknown, check.punished, check.matter_reference) == (5, 3, 1, "NJGG2026-0815")
    assert check.feedback_due_at is not None


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("投标人")
    for r, row in enumerate([header, *rows]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return path


@pytest.mark.parametrize("fmt", ["xlsx", "csv-gbk", "csv-utf8", "json"])
def test_a_batch_file_as_departments_send_it(sanctioned: Session, cast: Cast, tmp_path: Path, fmt: str) -> None:
    codes = bidders(sanctioned, cast)
    names = ["南京甲公司", "南京乙公司", "南京丙公司", "无效", "张三"]
    header = ["序号", "投标人名称", "统一社会信用代码"]
    rows = [[str(i + 1), n, c] for i, (n, c) in enumerate(zip(names, codes, strict=True))]
    if fmt == "xlsx":
        path = write_xlsx(tmp_path / "投标人.xlsx", header, rows)
    elif fmt == "json":
        path = tmp_path / "bidders.json"
        path.write_text(json.dumps([dict(zip(header, r, strict=True)) for r in rows], ensure_ascii=False), "utf-8")
    else:
        path = tmp_path / "bidders.csv"
        path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n",
                        encoding="gbk" if fmt == "csv-gbk" else "utf-8")
    check = checks.check_file(sanctioned, cast.applier, "BIDDING", path, path.name)
    _, views = checks.subject_rows(sanctioned, check)
    assert [v.row.outcome for v in views] == ["punish", "clean", "unknown", "invalid", "unknown"]
    first_row = 1 if fmt == "json" else 2  # as the department sees its file: row 1 is the header
    assert views[0].row.position == first_row and check.channel == "batch" and check.file_sha256


def test_bad_files_and_unknown_matters_record_nothing(sanctioned: Session, cast: Cast, tmp_path: Path) -> None:
    codes = bidders(sanctioned, cast)
    sanctioned.commit()
    before = count(sanctioned, JointCheck), count(sanctioned, CheckSubject), audit.count(sanctioned)
    no_column = tmp_path / "no_code.csv"
    no_column.write_text("名称,地址\n南京甲公司,玄武区\n", "utf-8")
    error = refused("CHECK_FILE_NO_CODE_COLUMN", checks.check_file, sanctioned, cast.applier, "BIDDING", no_column, "x.csv")
    assert "统一社会信用代码" in error.message
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileProblem) as caught:
        checks.check_file(sanctioned, cast.applier, "BIDDING", empty, "empty.csv")
    assert caught.value.code == "FILE_EMPTY"
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(f"统一社会信用代码,名称\n{codes[0]},甲\n{codes[1]},乙,多余\n", "utf-8")
    with pytest.raises(FileProblem):
        checks.check_file(sanctioned, cast.applier, "BIDDING", ragged, "ragged.csv")
    header_only = tmp_path / "header_only.csv"
    header_only.write_text("统一社会信用代码\n\n", "utf-8")
    with pytest.raises(DomainError):
        checks.check_file(sanctioned, cast.applier, "BIDDING", header_only, "h.csv")
    error = refused("MATTER_UNKNOWN", checks.check_codes, sanctioned, cast.applier, "COFFEE", codes)
    assert "GOV_PROCUREMENT 政府采购" in error.message
    refused("CHECK_NO_SUBJECTS", checks.check_codes, sanctioned, cast.applier, "BIDDING", [])
    refused("CHECK_DEPARTMENT_REQUIRED", checks.check_codes, sanctioned, ADMIN, "BIDDING", codes)
    sanctioned.rollback()
    assert (count(sanctioned, JointCheck), count(sanctioned, CheckSubject), audit.count(sanctioned)) == before


def test_a_crash_while_recording_leaves_nothing_half_way(sanctioned: Session, cast: Cast,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    codes = bidders(sanctioned, cast)
    sanctioned.commit()

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(checks.audit, "append", crash)
    with pytest.raises(RuntimeError):
        checks.check_codes(sanctioned, cast.applier, "BIDDING", codes)
    sanctioned.rollback()
    assert (count(sanctioned, JointCheck), count(sanctioned, CheckSubject), count(sanctioned, CheckHit)) == (0, 0, 0)


def test_every_check_is_audited(sanctioned: Session, cast: Cast) -> None:
    code = company(30)
    subject_id = abnormal(sanctioned, cast, code).record.subject_id
    check = check_one(sanctioned, cast, "GOV_PROCUREMENT", code)
    [entry] = audit.recent(sanctioned, limit=1)
    assert (entry.action, entry.object_id, entry.subject_id) == ("sanctions.check", str(check.id), subject_id)
    assert entry.detail["hits"] == 1 and audit.verify(sanctioned).ok


# --- feedback (反馈) -------------------------------------------------------------------------------------

def hits_of(session: Session, check: JointCheck) -> list[CheckHit]:
    return list(session.scalars(select(CheckHit).where(CheckHit.check_id == check.id).order_by(CheckHit.id)))


def test_feedback_by_the_checking_department_with_reasons(sanctioned: Session, cast: Cast) -> None:
    code = company(40)
    abnormal(sanctioned, cast, code)
    penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕40号")
    check = check_one(sanctioned, cast, "BIDDING", code)
    first, second = hits_of(sanctioned, check)
    sanctioned.commit()
    refused("CHECK_NOT_YOURS", checks.give_feedback, sanctioned, cast.other_applier, check.id,
            [FeedbackIn(hit_id=first.id, taken=True)])
    refused("FEEDBACK_REASON_REQUIRED", checks.give_feedback, sanctioned, cast.applier, check.id,
            [FeedbackIn(hit_id=first.id, taken=True), FeedbackIn(hit_id=second.id, taken=False)])
    refused("FEEDBACK_HIT_UNKNOWN", checks.give_feedback, sanctioned, cast.applier, check.id,
            [FeedbackIn(hit_id=first.id, taken=True), FeedbackIn(hit_id=second.id + 1000, taken=True)])
    assert count(sanctioned, CheckFeedback) == 0  # all or nothing
    checks.give_feedback(sanctioned, cast.applier, check.id, [
        FeedbackIn(hit_id=first.id, taken=True, note="取消其投标资格"),
        FeedbackIn(hit_id=second.id, taken=False, note="该项目非依法必须招标项目，不适用")])
    _, [view] = checks.subject_rows(sanctioned, check)
    assert sorted((h.feedback.taken, h.feedback.note) for h in view.hits if h.feedback) == [
        (False, "该项目非依法必须招标项目，不适用"), (True, "取消其投标资格")]
    [stats] = [s for s in checks.feedback_by_department(sanctioned) if s.department_id == cast.applier.department_id]
    assert (stats.checks, stats.hits, stats.answered, stats.taken, stats.overdue, stats.rate) == (1, 2, 2, 1, 0, 1.0)


def test_feedback_falls_due_after_working_days_and_is_then_overdue(sanctioned: Session, cast: Cast) -> None:
    clock.freeze(datetime(2026, 9, 28, 9, 0, tzinfo=clock.SHANGHAI))  # Monday before the National Day holiday
    code = company(50)
    abnormal(sanctioned, cast, code)
    check = check_one(sanctioned, cast, "GOV_PROCUREMENT", code)
    calendar = checks.calendar_service.working_calendar(sanctioned)
    last_day = clock.local(check.feedback_due_at - timedelta(seconds=1)).date()  # type: ignore[operator]
    assert calendar.is_working_day(last_day)
    assert calendar.working_days_between(date(2026, 9, 28), last_day) == checks.feedback_days(sanctioned)
    assert last_day > date(2026, 10, 12)  # 10 calendar days would end inside the holiday; working days go past it
    assert checks.overdue(sanctioned) == []
    clock.freeze(check.feedback_due_at)  # type: ignore[arg-type]
    [late] = checks.overdue(sanctioned)
    assert (late.check.id, late.pending) == (check.id, 1)
    [stats] = [s for s in checks.feedback_by_department(sanctioned) if s.department_id == cast.applier.department_id]
    assert stats.overdue == 1 and stats.rate == 0.0
    assert sum(m["checks"] for m in checks.monthly(sanctioned)) == 1


def test_a_department_sees_only_its_own_checks(sanctioned: Session, cast: Cast) -> None:
    code = company(60)
    abnormal(sanctioned, cast, code)
    check = check_one(sanctioned, cast, "GOV_PROCUREMENT", code)
    refused("CHECK_NOT_YOURS", checks.get_check, sanctioned, cast.other_applier, check.id)
    assert checks.get_check(sanctioned, ADMIN, check.id).id == check.id
    assert checks.checks(sanctioned, cast.other_applier)[0] == 0
    assert checks.checks(sanctioned, cast.applier)[0] == 1


def test_the_results_returned_at_once_are_what_is_stored(sanctioned: Session, cast: Cast) -> None:
    codes = bidders(sanctioned, cast)
    penalty(sanctioned, cast, codes[0], number="宁玄市监处罚〔2026〕88号")

    def facts(views: list[checks.SubjectView]) -> list[tuple[object, ...]]:
        return [(v.row.position, v.row.subject_id, v.row.given_code, v.row.outcome, v.name, v.code,
                 [(h.hit.id, h.measure.id, h.hit.triggers) for h in v.hits]) for v in views]

    check, shown = checks.check_and_show(sanctioned, cast.applier, "BIDDING", codes)
    assert facts(shown) == facts(checks.subject_rows(sanctioned, check)[1])
    assert sum(len(v.hits) for v in shown) == check.hits == 2
