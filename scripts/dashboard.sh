#!/usr/bin/env bash
# Start the dashboard on http://127.0.0.1:8501 (installs what it needs on first run).
source "$(dirname "$0")/_env.sh"
ensure_env app
cd "$ROOT"
exec "$VENV/bin/python" -m streamlit run app.py \
  --server.address "${PLANNER_ADDRESS:-127.0.0.1}" --server.port "${PLANNER_PORT:-8501}" \
  --browser.gatherUsageStats false --server.headless true "$@"
