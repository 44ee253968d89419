#!/usr/bin/env bash
# Run the whole test suite (installs what it needs: Python packages, and Debian's chromium for the browser test).
source "$(dirname "$0")/_env.sh"
ensure_env test
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser test..."
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! /usr/bin/python3 -c "import gi; gi.require_version('ICalGLib', '3.0')" >/dev/null 2>&1 && [ "$(id -u)" = "0" ] \
    && command -v apt-get >/dev/null 2>&1; then
  echo "installing libical's bindings (Debian) for the calendar checks..."
  (apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gir1.2-ical-3.0 python3-gi \
    >/dev/null) || echo "libical not installed; its checks will be skipped"
fi
if command -v node >/dev/null 2>&1 && { [ ! -d "$ROOT/tests/js/node_modules/ical.js" ] \
    || [ ! -d "$ROOT/tests/js/node_modules/axe-core" ]; }; then
  (cd "$ROOT/tests/js" && npm install --silent --no-audit --no-fund >/dev/null 2>&1) \
    || echo "ical.js and axe-core not installed; their checks will be skipped"
fi
cd "$ROOT"
"$VENV/bin/python" -m ruff check planner dashboard app.py tests bench
"$VENV/bin/python" -m mypy planner dashboard app.py
exec "$VENV/bin/python" -m pytest "$@"
