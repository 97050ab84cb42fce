#!/usr/bin/env bash
# One command from a fresh checkout to the whole test suite, on SQLite and on a throwaway PostgreSQL.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
  || need_system_packages postgresql
# Browser tests (tests/browser) drive Debian's Chromium; a CJK font so Chinese pages render as users see them
# and credit-report PDFs embed it; Pango for WeasyPrint (the PDF renderer).
need_system_packages chromium fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0
# The Spark evaluation test (tests/evaluation/test_spark.py) runs PySpark 4.0 in local mode: a Java 17 runtime.
command -v java >/dev/null 2>&1 || need_system_packages openjdk-17-jre-headless
ruff check .
exec python -m pytest -n "${XINYONG_TEST_WORKERS:-2}" "$@"
