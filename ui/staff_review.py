"""Staff: the queue of flagged, corrected and unanswered questions to mark correct or wrong, and the export."""

from __future__ import annotations

import io
import time

import streamlit as st

from engine.conversation_log import MARKS
from engine.core.config import Config
from engine.safety.alerts import TIER_NAMES, alert_tier
from ui import components, services


def render(config: Config) -> None:
    st.header("📝 Review")
    log = services.get_log(config)
    _alerts(log)
    queue = log.review_queue(limit=20)
    st.caption(f"{len(queue)} answer(s) waiting. Mark each one correct or wrong; the marks become golden questions.")
    if not queue:
        st.success("Nothing to review right now.")
    for item in queue:
        _review_item(log, item)
    _export(log)
    _recent(log)


def _alerts(log) -> None:
    """Stopped conversations, the most worrying first (tier 1: self-harm, violence against a person), with the
    turns around them."""
    st.subheader("🚨 Safety alerts")
    alerts = [(alert_tier(row["safety"]), row) for row in log.stopped(limit=200)]
    alerts = sorted([(t, row) for t, row in alerts if t is not None], key=lambda item: (item[0], -item[1]["id"]))
    if not alerts:
        st.caption("No question or answer has been stopped by a safety layer.")
        return
    counts = {t: sum(1 for a, _ in alerts if a == t) for t in TIER_NAMES}
    st.caption(" · ".join(f"tier {t}: {n}" for t, n in counts.items()))
    chosen = st.multiselect("Show tiers", list(TIER_NAMES), default=list(TIER_NAMES), format_func=lambda t: TIER_NAMES[t], key="alert_tiers")
    for t, row in [(t, row) for t, row in alerts if t in chosen][:50]:
        final = row["safety"].get("final") or {}
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["ts"]))
        score = f", classifier score {final['score']:.2f}" if final.get("score") is not None else ""
        box = st.error if t == 1 else st.warning if t == 2 else st.info
        box(f"**Tier {t}** · #{row['id']} · {when} · {final.get('action', '')} by the {final.get('layer', '')} layer "
            f"({final.get('category', '')}{score}): \"{components.escape_md(row['question'][:200])}\"")
        with st.expander(f"Conversation around #{row['id']} (session {row['session_id'][:8]})"):
            for turn in log.around(row["id"]):
                marker = "➡️ " if turn["id"] == row["id"] else ""
                st.markdown(f"{marker}**Student:** {components.escape_md(turn['question'][:300])}  \n"
                            f"**StudyBuddy:** {components.escape_md(turn['answer'][:300])}")


def _review_item(log, item: dict) -> None:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item["ts"]))
    with st.container(border=True):
        st.markdown(f"**#{item['id']}** · {when} · library `{item['library']}`")
        st.markdown(f"**Question:** {components.escape_md(item['question'])}")
        _safety_note(item.get("safety") or {})
        components.show_answer({"answer": item["answer"], "verdict": item["verdict"], "claims": item["claims"],
                                "citations": item["citations"]})
        _decided_by(item["claims"])
        with st.form(f"review_{item['id']}"):
            mark = st.radio("This answer is", MARKS, horizontal=True, key=f"mark_{item['id']}")
            note = st.text_input("Note (optional)", key=f"note_{item['id']}")
            if st.form_submit_button("Save mark"):
                log.mark(item["id"], mark, note, reviewer="staff")
                st.toast(f"Saved: #{item['id']} marked {mark}.")
                st.rerun()


def _decided_by(claims: list[dict]) -> None:
    """For staff, not the child: which check decided each claim's verdict, and what it found. Conversations logged
    before the verdict recorded it say so."""
    if not claims:
        return
    lines = []
    for claim in claims:
        check = claim.get("decided_by") or "not recorded"
        why = f" — {components.escape_md(claim['why'])}" if claim.get("why") else ""
        lines.append(f"- *{components.escape_md(claim['text'][:160])}*: **{claim['verdict']}**, decided by the {check}{why}")
    with st.expander("Which check decided each claim"):
        st.markdown("\n".join(lines))


def _safety_note(safety: dict) -> None:
    """Why a safety layer redirected, blocked or changed this answer (every layer's decision is in the log)."""
    final = safety.get("final") or {}
    if final.get("category", "none") == "none":
        return
    st.warning(f"🛡 Safety: {final['action']} by the {final['layer']} layer ({final['category']}): "
               f"{components.escape_md(final['reason'])}")
    with st.expander("Every layer's decision"):
        st.dataframe([{k: d.get(k, "") for k in ("layer", "action", "category", "reason")} for d in safety.get("decisions", [])],
                     hide_index=True, width="stretch")


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
        {"id": r["id"], "question": r["question"], "answer": r["answer"], "verdict": r["verdict"], "mark": r["mark"] or "",
         "safety": _safety_label(r.get("safety") or {})}
        for r in log.recent(limit=30)
    ]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.caption("No conversations yet.")


def _safety_label(safety: dict) -> str:
    final = safety.get("final") or {}
    return "" if final.get("category", "none") == "none" else f"{final['action']}: {final['layer']} / {final['category']}"
