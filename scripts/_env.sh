# Shared by the scripts: a project virtualenv with the package and (optionally) its test extras installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PLANNER_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
ensure_env() {
  local extras="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$extras"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    if [ "$extras" = "test" ]; then
      "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
    else
      "$VENV/bin/python" -m pip install -q -e "$ROOT"
    fi
    touch "$stamp"
  fi
}
