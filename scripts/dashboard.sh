#!/usr/bin/env bash
# Start the dashboard on http://127.0.0.1:8501 and the calendar feed server on http://127.0.0.1:8502 (installs
# what it needs on first run). Both read the same database ($PLANNER_DB); the feed server stops with the dashboard.
source "$(dirname "$0")/_env.sh"
ensure_env app
cd "$ROOT"
FEED_ADDRESS="${PLANNER_FEED_ADDRESS:-127.0.0.1}"
FEED_PORT="${PLANNER_FEED_PORT:-8502}"
# The address calendar apps reach the feed at; set it to your public https:// address when deployed.
export PLANNER_FEED_URL="${PLANNER_FEED_URL:-http://$FEED_ADDRESS:$FEED_PORT}"
"$VENV/bin/python" -m planner serve --host "$FEED_ADDRESS" --port "$FEED_PORT" &
FEED_PID=$!
"$VENV/bin/python" -m streamlit run app.py \
  --server.address "${PLANNER_ADDRESS:-127.0.0.1}" --server.port "${PLANNER_PORT:-8501}" \
  --browser.gatherUsageStats false --server.headless true "$@" &
DASH_PID=$!
stop() { kill "$DASH_PID" "$FEED_PID" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
wait "$DASH_PID"
