"""Study-planner dashboard: wires the pages of the `dashboard` package into one app (`streamlit run app.py`)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Study planner", page_icon="📚", layout="wide")

# Streamlit shows its top navigation from 768 px. Narrower: the words-only page row, and titles that leave room
# for the page's first answers (a 2.75rem title takes three lines of a 390 px phone).
PHONE_CSS = """<style>
@media (min-width: 768px) { .st-key-phone_nav { display: none; } }
@media (max-width: 767px) {
  .st-key-phone_nav { gap: 0.25rem; flex-wrap: wrap; }
  .st-key-phone_nav > div { width: auto !important; min-width: 0 !important; flex: 0 0 auto !important; }
  .st-key-phone_nav a > span:has([data-testid="stIconMaterial"]) { display: none; }
  .st-key-phone_nav a { min-height: 2.75rem; }
  .stMainBlockContainer h1 { font-size: 1.75rem; }
  .stMainBlockContainer h2 { font-size: 1.4rem; }
}
</style>"""

from dashboard import state  # noqa: E402
from planner.store import StoreError  # noqa: E402

state.store()  # a damaged database stops here with its one message and the way out
try:
    state.boot()
except StoreError as exc:
    state.ss.store_error = exc
if state.ss.get("store_error") is not None:
    state.damaged_store_page(state.ss.store_error)
    st.stop()
pages = [
    st.Page("dashboard/today_page.py", title="Today", icon=":material/today:", url_path="today", default=True),
    st.Page("dashboard/plan_page.py", title="Plan", icon=":material/route:", url_path="plan"),
    st.Page("dashboard/progress_page.py", title="Progress", icon=":material/checklist:", url_path="progress"),
    st.Page("dashboard/calendar_page.py", title="Calendar", icon=":material/calendar_month:", url_path="calendar"),
    st.Page("dashboard/learners_page.py", title="Learners", icon=":material/group:", url_path="learners"),
]
page = st.navigation(pages, position="top")
# At phone width Streamlit folds the top navigation behind an unlabelled » button: the pages as words instead, one
# tap away on every page (CSS hides the row where the top navigation shows; hidden, it is out of the Tab order too).
st.html(PHONE_CSS)
with st.container(key="phone_nav", horizontal=True, gap="small"):
    for each in pages:
        st.page_link(each, label=each.title)
if page.title == "Today" and state.ss.get("active") is None and not state.ss.get("sent_to_plan"):
    state.ss.sent_to_plan = True  # a learner without a plan starts on the form, once per tab
    st.switch_page("dashboard/plan_page.py")
state.banners()
try:
    page.run()
except StoreError as exc:  # damaged or made read-only while in use
    state.damaged_store_page(exc)
