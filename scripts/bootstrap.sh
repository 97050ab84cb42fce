#!/usr/bin/env bash
# Install what the platform needs on a fresh machine: system packages (when root), a virtualenv,
# the pinned Python dependencies. Sourced by run.sh and test.sh; safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${XINYONG_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

apt_install() {
  # Only root can install Debian packages; others must have them already.
  [ "$(id -u)" = 0 ] || { echo "需要以下系统软件包：$*（请以 root 运行或手动安装）" >&2; return 0; }
  if [ ! -f /var/lib/apt/periodic/xinyong-updated ]; then
    apt-get update -qq && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/xinyong-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need_system_packages() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.xinyong-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] || [ "$ROOT/requirements.lock" -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip==25.3 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/requirements.lock" -e "$ROOT[test]" 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -c "import xinyong" && touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
