"""Staff: the queue of flagged, corrected and unanswered questions to mark correct or wrong, and the export."""

from __future__ import annotations

import io
import time

import streamlit as st

from engine.config import Config
from engine.conversation_log import MARKS
from ui import components, services


def render(config: Config) -> None:
    st.header("📝 Review")
    log = services.get_log(config)
    queue = log.review_queue(limit=20)
    st.caption(f"{len(queue)} answer(s) waiting. Mark each one correct or wrong; the marks become golden questions.")
    if not queue:
        st.success("Nothing to review right now.")
    for item in queue:
        _review_item(log, item)
    _export(log)
    _recent(log)


def _review_item(log, item: dict) -> None:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item["ts"]))
    with st.container(border=True):
        st.markdown(f"**#{item['id']}** · {when} · library `{item['library']}`")
        st.markdown(f"**Question:** {components.escape_md(item['question'])}")
        components.show_answer({"answer": item["answer"], "verdict": item["verdict"], "claims": item["claims"],
                                "citations": item["citations"]})
        with st.form(f"review_{item['id']}"):
            mark = st.radio("This answer is", MARKS, horizontal=True, key=f"mark_{item['id']}")
            note = st.text_input("Note (optional)", key=f"note_{item['id']}")
            if st.form_submit_button("Save mark"):
                log.mark(item["id"], mark, note, reviewer="staff")
                st.toast(f"Saved: #{item['id']} marked {mark}.")
                st.rerun()


def _export(log) -> None:
    st.subheader("Export marks")
    buffer = io.StringIO()
    count = log.export_marks_jsonl(buffer)
    st.download_button(
        f"Download {count} marked answer(s) as JSONL", buffer.getvalue(), file_name="review_marks.jsonl",
        mime="application/jsonl", key="export_marks", disabled=count == 0,
    )


def _recent(log) -> None:
    st.subheader("Latest conversations")
    rows = [
        {"id": r["id"], "question": r["question"], "answer": r["answer"], "verdict": r["verdict"], "mark": r["mark"] or ""}
        for r in log.recent(limit=30)
    ]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.caption("No conversations yet.")
