"""Learners: add a learner, restore an earlier version of the open one (undo), back up and restore everyone."""

from __future__ import annotations

import sqlite3

import pandas as pd
import streamlit as st

from dashboard.state import (
    CONTENT,
    boot,
    curriculum_for,
    learner_picker,
    md,
    new_learner_form,
    open_learner,
    ss,
    store,
)
from planner import views
from planner.errors import InputError
from planner.feedtokens import forget_learner
from planner.store import CREATED_NOTE, StaleVersion, StoreError, check_name, shown_name


def on_new_learner() -> None:
    """Keep the new learner at once (the form's defaults, no plan), so the name is in the list until it is deleted,
    then open them on the Plan page's form."""
    try:
        name = check_name(ss.get("new_learner", ""))
    except InputError as exc:
        ss.learner_error = views.field_error(exc.field, exc.message).text
        return
    if name in store().names():
        ss.learner_error = "Name: that learner exists already; pick it in the Learner list"
        return
    try:
        store().save(name, views.form_to_mapping(new_learner_form()), None, expected_version=0, note=CREATED_NOTE)
    except (StaleVersion, StoreError, InputError) as exc:
        ss.learner_error = f"Could not create {shown_name(name)}: {getattr(exc, 'message', exc)}"
        return
    ss.learner_error = None
    ss.new_learner = ""
    open_learner(name)
    ss.flash = f"Created {name}, with no plan yet: fill in the form on the Plan page and press Make my plan."


def on_restore(version: int) -> None:
    try:
        store().restore(ss.learner, version, expected_version=ss.get("version", 0))
    except StaleVersion as exc:
        ss.stale = f"This learner was saved in another tab (now version {exc.current}). Nothing was restored."
        return
    except (InputError, StoreError) as exc:
        ss.flash_error = f"Could not restore: {exc}"
        return
    open_learner(ss.learner)
    ss.flash = f"Restored version {version} (saved as a new version: this can be undone too)."


def on_delete() -> None:
    """Remove the open learner from the list (its versions stay, so re-creating the name can restore them) and
    forget its feed link, so a later learner of the same name never gets the old URL."""
    name = ss.learner
    try:
        store().delete(name)
    except StoreError as exc:
        ss.flash_error = f"Could not delete: {exc.message}"
        return
    try:
        forget_learner(store(), name)
    except sqlite3.Error as exc:  # the feed server also forgets a deleted learner's link at its next request
        ss.flash_error = f"Deleted {name}, but its calendar link could not be cleared now ({exc})"
    else:
        ss.flash = f"Deleted {name}; its calendar subscription link no longer works."
    ss.pop("learner", None)
    ss.delete_confirm = False
    ss.proposal, ss.accepted, ss.confirm_plan = None, False, None
    boot()  # opens the most recent remaining learner, or a new one


def on_import() -> None:
    upload = ss.get("import_file")
    if upload is None:
        return
    try:
        imported = store().import_state(upload.getvalue(), curriculum_for(CONTENT))
    except StoreError as exc:  # the database (full, read-only, damaged), not the file
        ss.import_error = f"Import failed — {exc.message}. Nothing was changed."
        return
    except InputError as exc:
        ss.import_error = f"Import failed — {views.field_error(exc.field, exc.message).text}. Nothing was changed."
        return
    last = store().last()
    ss.pending_open = last.name if last is not None else None
    ss.flash = " ".join([f"Imported {len(imported)} learner(s).", *imported.notes])
    ss.import_error = None


def render() -> None:
    st.title("Learners")
    learner_picker()
    s = store()
    if s.readonly:
        st.warning(f"The database {s.path} is read-only: you can look, but nothing will be saved.")

    rechecks = s.rechecks(ss.learner)
    if rechecks:
        st.warning(md("Busy calendars to re-check (restored from a backup without being read): "
                      + "; ".join(f"{source} ({why})" for source, why in rechecks)
                      + ". Make my plan reads them again and names any that still cannot be read."))

    st.header("History")
    st.text(f"Every saved plan of {shown_name(ss.learner)}, the newest first.")
    versions = s.versions(ss.learner)
    if not versions:
        st.write("Nothing saved yet for this learner.")
    else:
        table = pd.DataFrame([{"Version": v.version, "Saved (UTC)": v.saved_at[:19].replace("T", " "),
                               "What": views.history_note(v.note or "saved"), "Finish": v.finish or "does not fit",
                               "Sessions done": v.done_sessions} for v in versions])
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"What": st.column_config.TextColumn(width="large")})
        earlier = [v.version for v in versions if v.version != ss.get("version")]
        if earlier:
            c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
            pick = c1.selectbox("Version to restore", earlier, key="restore_pick")
            c2.button("Restore this version", key="restore", on_click=on_restore, args=(pick,),
                      help="Your current state stays in the history, so a restore can be undone")

    st.header("New learner")
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    c1.text_input("Name", key="new_learner", placeholder="e.g. Alex")
    c2.button("Create", on_click=on_new_learner, key="create_learner")
    if ss.get("learner_error"):
        st.error(md(ss.learner_error))

    if ss.learner in s.names():
        st.header("Delete this learner")
        st.text(f"Learner: {shown_name(ss.learner)}")  # user text never goes into a label (labels render markdown)
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        c1.checkbox("Yes, delete this learner from the list", key="delete_confirm",
                    help="The saved versions stay: creating the same name again can restore them. The calendar "
                         "subscription link stops working for good.")
        c2.button("Delete", key="delete_learner", on_click=on_delete, disabled=not ss.get("delete_confirm"))

    st.header("Backup and restore")
    st.download_button("Export all learners (JSON)", s.export_state, file_name="study-planner-state.json",
                       mime="application/json", on_click="ignore", key="export_state",
                       help="Built when you click, so it holds every learner saved up to that moment")
    st.file_uploader("Import a state file", type=["json", "gz"], key="import_file", max_upload_size=64,
                     help="A file exported here (also gzip-compressed), at most 64 MB.")
    st.button("Import", key="import_button", on_click=on_import)
    if ss.get("import_error"):
        st.error(md(ss.import_error))


if __name__ == "__main__":  # run as a page by st.navigation
    render()
