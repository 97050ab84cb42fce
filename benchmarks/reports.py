"""Credit reports: issued per second for typical subjects (one process and two), verified per second.

    python benchmarks/reports.py                               # 2,000 demo subjects, 120 reports, SQLite
    python benchmarks/reports.py --subjects 5000 --reports 300
    python benchmarks/reports.py --db postgresql               # throwaway cluster (initdb --locale=C.UTF-8)
    python benchmarks/reports.py --keep                        # keep the generated SQLite database in var/bench/

1. generation (timed apart, not against the target): migrate to head, seed as ``xinyong init`` does (policy
   parameters, catalogue, evaluation models, supervision schemes, sanctions), then the demo data exactly as
   ``xinyong demo`` makes it (``xinyong.demo.generate`` through the real services, two runs of the public
   evaluation model, lists, joint checks, commitments, repairs).
2. typical subjects: organisations with a 统一社会信用代码 and 2–12 records (the middle of the demo's
   distribution), drawn at random (fixed seed); the number of records each has is printed.
3. issuing (timed): ``reports.service.issue(session, authority, code, read_only_factory=…)`` exactly as the web
   route calls it — general report: number and key committed in a short write transaction, content read in a
   read-only one, PDF laid out by WeasyPrint and PAdES-signed in none, then file, register row and audit entry in
   a last short write transaction. Workers are processes started with ``multiprocessing``
   (spawn), each with its own engine and session; each issues two reports to warm up (fonts, stylesheet,
   imports), then all start together at a barrier. Measured with one worker and with ``--processes`` (2).
   The single worker also times the phases from outside (``content.general_document``, ``render.render_pdf``,
   ``signing.sign``, ``service._store``; "other" is number, subject look-up, key and commit).
4. verification (timed): every issued PDF through ``service.verify_file`` (signature against the trusted
   certificates + register look-up, as the public page and API do) and through ``signing.verify`` alone
   (offline, what ``xinyong reports verify`` does), one process; and every register row against the file
   stored for it (a file another worker overwrote shows up as a mismatch).

Target (issue 9): ≥ 20 reports/s on 2 cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import (  # noqa: E402
    BACKENDS,
    bench_database,
    machine,
    peak_rss_mb,
    phase_timer,
    quiet_arguments,
    wait_for_quiet,
)
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from xinyong.actor import Actor  # noqa: E402
from xinyong.config import Settings, use_settings  # noqa: E402

KEEP_DIR = ROOT / "var" / "bench"
ADMIN = Actor(user_id=None, username="基准测试", role="authority_admin")
SECRET = "bench"  # secret and person-ID keys: generation and workers must agree
RECORDS_PER_SUBJECT = (2, 12)
WARM_UP = 2
PHASES = ("content", "render", "sign", "store")


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(database_url=url, data_dir=data_dir, secret_key=SECRET, person_id_key=SECRET,
                    platform_name="公共信用信息平台", jurisdiction_name="南京市", jurisdiction_code="320100")


# --- generation ------------------------------------------------------------------------------------------

def generate(url: str, data_dir: Path, subjects: int) -> float:
    """The demo jurisdiction, made as ``xinyong init`` + ``xinyong demo`` make it; returns seconds taken."""
    from xinyong import cli, migrate

    started = time.perf_counter()
    settings = settings_for(url, data_dir)
    use_settings(settings)
    migrate.upgrade(settings, "head")
    cli._seed()
    cli.demo(subjects=subjects, seed=20261127, if_empty=False)
    return time.perf_counter() - started


def has_subjects(url: str, subjects: int) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return (connection.scalar(text("SELECT count(*) FROM subjects")) or 0) >= subjects
    except Exception:
        return False
    finally:
        engine.dispose()


def typical_subjects(url: str, data_dir: Path, count: int, seed: int) -> list[tuple[str, int]]:
    """Organisations (with a code) that have 2–12 records: (code, records), ``count`` of them at random."""
    from xinyong.db import session_scope
    from xinyong.records.models import Record
    from xinyong.subjects.models import Subject

    use_settings(settings_for(url, data_dir))
    low, high = RECORDS_PER_SUBJECT
    with session_scope() as session:
        per = (select(Record.subject_id, func.count().label("n")).group_by(Record.subject_id)
               .having(func.count().between(low, high)).subquery())
        rows = session.execute(select(Subject.uscc, per.c.n).join(per, per.c.subject_id == Subject.id)
                               .where(Subject.uscc.is_not(None)).order_by(Subject.id)).all()
    rng = random.Random(seed)
    chosen = rng.sample([(r[0], int(r[1])) for r in rows], min(count, len(rows)))
    if len(chosen) < count:
        raise SystemExit(f"only {len(chosen)} typical organisations in the data: use more --subjects")
    return chosen


# --- issuing (in worker processes) ---------------------------------------------------------------------------

def _issue_one(factory: Any, readers: Any, code: str) -> None:
    """One report, as the web route issues it (write lock only to number and to store)."""
    from xinyong.db import unit_of_work
    from xinyong.reports import service

    with unit_of_work(factory) as session:
        service.issue(session, ADMIN, code, read_only_factory=readers)


def worker(url: str, data_dir: str, codes: list[str], barrier: Any, results: Any, timed: bool) -> None:
    """Issue reports for ``codes`` after the barrier; put (started, ended, phases, rss) on ``results``."""
    from xinyong import clock
    from xinyong.db import read_only, session_factory
    from xinyong.reports import content, render, service, signing

    clock.reset()
    settings = settings_for(url, Path(data_dir))
    use_settings(settings)
    factory = session_factory(settings)
    readers = read_only(factory)
    phases: dict[str, float] = {}
    for code in codes[:WARM_UP]:
        _issue_one(factory, readers, code)
    if timed:
        stamp = phase_timer(phases)
        content.general_document = stamp("content", content.general_document)  # type: ignore[method-assign]
        render.render_pdf = stamp("render", render.render_pdf)  # type: ignore[method-assign]
        signing.sign = stamp("sign", signing.sign)  # type: ignore[method-assign]
        service._store = stamp("store", service._store)  # type: ignore[attr-defined]
    barrier.wait()
    started = time.perf_counter()
    for code in codes[WARM_UP:]:
        _issue_one(factory, readers, code)
    ended = time.perf_counter()
    results.put({"started": started, "ended": ended, "reports": len(codes) - WARM_UP, "phases": phases,
                 "rss_mb": peak_rss_mb()})


def issue_with(processes: int, url: str, data_dir: Path, codes: list[str]) -> dict[str, Any]:
    """``processes`` workers share ``codes`` (each also warms up on two of its own); timed from the barrier."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    shares = [codes[i::processes] for i in range(processes)]
    workers = [context.Process(target=worker, args=(url, str(data_dir), share, barrier, results, processes == 1))
               for share in shares]
    for process in workers:
        process.start()
    outcomes = [results.get(timeout=3600) for _ in workers]
    for process in workers:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a worker failed (exit code {process.exitcode})")
    # perf_counter is CLOCK_MONOTONIC on Linux: comparable between processes on one machine
    wall = max(o["ended"] for o in outcomes) - min(o["started"] for o in outcomes)
    issued = sum(o["reports"] for o in outcomes)
    return {"processes": processes, "reports": issued, "seconds": wall, "per_second": issued / wall,
            "phases": outcomes[0]["phases"], "rss_mb": max(o["rss_mb"] for o in outcomes)}


# --- verification ------------------------------------------------------------------------------------------------

def verification(url: str, data_dir: Path) -> dict[str, Any]:
    """Every stored report through ``service.verify_file`` and ``signing.verify``; and each register row
    against the file stored for it (a file another worker overwrote shows up here)."""
    import hashlib
    from collections import Counter

    from xinyong.db import read_session_factory, unit_of_work
    from xinyong.reports import service, signing
    from xinyong.reports.models import CreditReport

    use_settings(settings_for(url, data_dir))
    files = [p.read_bytes() for p in sorted((data_dir / "reports").glob("*.pdf"))]
    with unit_of_work(read_session_factory()) as session:
        trusted = service.trust_map(session)
        service.verify_file(session, files[0])  # warm-up: imports
        started = time.perf_counter()
        statuses = Counter(service.verify_file(session, pdf).status for pdf in files)
        online = time.perf_counter() - started
        register = [(r.sha256, r.stored_as) for r in session.scalars(select(CreditReport))]
    started = time.perf_counter()
    offline = Counter(signing.verify(pdf, trusted).status for pdf in files)
    alone = time.perf_counter() - started
    mismatched = sum(1 for sha, stored in register
                     if hashlib.sha256((data_dir / stored).read_bytes()).hexdigest() != sha)
    sizes = sorted(len(pdf) for pdf in files)
    return {"files": len(files), "service_per_second": len(files) / online, "offline_per_second": len(files) / alone,
            "median_kb": statistics.median(sizes) / 1024, "max_kb": sizes[-1] / 1024, "service": dict(statuses),
            "offline": dict(offline), "register_rows": len(register), "register_mismatched": mismatched}


# --- the run ---------------------------------------------------------------------------------------------------------

def phase_line(outcome: dict[str, Any]) -> str:
    each = {name: outcome["phases"].get(name, 0.0) / outcome["reports"] * 1000 for name in PHASES}
    other = outcome["seconds"] / outcome["reports"] * 1000 - sum(each.values())
    return "  ".join(f"{name} {ms:.1f} ms" for name, ms in {**each, "other": other}.items())


def run_backend(backend: str, args: argparse.Namespace) -> None:
    from xinyong.db import dispose_engines

    print(f"\n--- {backend} ---", flush=True)
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-reports-") as tmp:
        work = Path(tmp)
        kept = KEEP_DIR / f"reports-{args.subjects}.db"
        with bench_database(backend, work, kept if args.keep else None, "-c shared_buffers=512MB") as url:
            data_dir = work / "data"
            if backend == "SQLite" and args.keep and has_subjects(url, args.subjects):
                from xinyong import migrate

                print(f"  reusing {kept}", flush=True)
                migrate.upgrade(settings_for(url, data_dir), "head")
                engine = create_engine(url)
                with engine.begin() as connection:  # reports and keys of an earlier run: their files are gone
                    connection.execute(text("DELETE FROM credit_reports"))
                    connection.execute(text("DELETE FROM report_signing_keys"))
                engine.dispose()
            else:
                seconds = generate(url, data_dir, args.subjects)
                print(f"  generation: {args.subjects:,} demo subjects in {seconds:.0f} s", flush=True)
            dispose_engines()
            total = args.reports + WARM_UP * (1 + args.processes)
            chosen = typical_subjects(url, data_dir, total, args.seed)
            dispose_engines()
            records = sorted(n for _, n in chosen)
            print(f"  typical organisations: {len(chosen)}, records each: median {statistics.median(records):.0f} "
                  f"(min {records[0]}, max {records[-1]})", flush=True)
            codes = [code for code, _ in chosen]
            single_codes, parallel_codes = codes[:args.reports // 2 + WARM_UP], codes[args.reports // 2 + WARM_UP:]

            wait_for_quiet(args.quiet_load, args.quiet_wait)
            single = issue_with(1, url, data_dir, single_codes)
            print(f"  issue, 1 process : {single['reports']} reports in {single['seconds']:.2f} s = "
                  f"**{single['per_second']:.1f} reports/s** (peak RSS {single['rss_mb']:.0f} MB)", flush=True)
            print(f"    per report: {phase_line(single)}", flush=True)
            wait_for_quiet(args.quiet_load, args.quiet_wait)
            parallel = issue_with(args.processes, url, data_dir, parallel_codes)
            print(f"  issue, {args.processes} processes: {parallel['reports']} reports in {parallel['seconds']:.2f} s = "
                  f"**{parallel['per_second']:.1f} reports/s** (peak RSS per process {parallel['rss_mb']:.0f} MB)",
                  flush=True)
            checked = verification(url, data_dir)
            print(f"  verify: {checked['files']} reports (median {checked['median_kb']:.0f} KB, "
                  f"max {checked['max_kb']:.0f} KB): service.verify_file {checked['service_per_second']:.0f}/s, "
                  f"offline signing.verify {checked['offline_per_second']:.0f}/s", flush=True)
            print(f"    verdicts: service {checked['service']}, offline {checked['offline']}; register rows whose "
                  f"stored file is not the file issued: {checked['register_mismatched']} of {checked['register_rows']}",
                  flush=True)
            target = "met" if parallel["per_second"] >= 20 else "NOT met"
            print(f"  target >= 20 reports/s on {args.processes} processes: {target}", flush=True)
            dispose_engines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=2000, help="demo subjects to generate")
    parser.add_argument("--reports", type=int, default=120, help="reports to time (half with 1 process, half with N)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--keep", action="store_true",
                        help=f"keep the SQLite database in {KEEP_DIR.relative_to(ROOT)}/ and reuse it")
    parser.add_argument("--seed", type=int, default=20261128)
    quiet_arguments(parser, wait=120)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"data: {args.subjects:,} demo subjects; {args.reports} general reports timed", flush=True)
    for backend in BACKENDS[args.db]:
        run_backend(backend, args)


if __name__ == "__main__":
    main()
