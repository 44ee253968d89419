"""Dashboard placeholder replaced by the full dashboard; plans with defaults."""

import streamlit as st

from planner.curriculum import default_content_path, load_curriculum
from planner.profile import profile_from_mapping
from planner.solve import Infeasible, make_plan

st.set_page_config(page_title="Study planner", page_icon="📚")
curriculum = load_curriculum(default_content_path())
profile = profile_from_mapping({"background": "ml_background", "hours_per_week": 15}, curriculum)
result = make_plan(curriculum, profile)
if isinstance(result, Infeasible):
    st.error(result.message())
else:
    st.metric("Finish", result.finish.isoformat())
