#!/usr/bin/env bash
# One command from a fresh checkout to a running platform with demo data at http://127.0.0.1:8000
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
# Credit-report PDFs: a CJK font embedded in every report and Pango for WeasyPrint (installed, never downloaded).
need_system_packages fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0
xinyong init
xinyong demo --if-empty --subjects "${XINYONG_DEMO_SUBJECTS:-3000}"
exec xinyong serve --host "${XINYONG_HOST:-127.0.0.1}" --port "${XINYONG_PORT:-8000}"
