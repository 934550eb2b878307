"""Pieces the pages share: the verdict badge, claims coloured by verdict, cited passages, friendly errors.

Everything here renders an answer's JSON (`Answer.to_json()`); none of it decides anything about the answer.
"""

from __future__ import annotations

import re

import streamlit as st

from engine.core.errors import StudyBuddyError

# verdict -> (what a child reads, colour, icon, one short sentence)
BADGES: dict[str, tuple[str, str, str, str]] = {
    "grounded": ("Checked in your books", "green", "✅", "I found every part of this answer in your books."),
    "corrected": ("Fixed with your books", "blue", "✏️", "I fixed a mistake. Your books told me the right answer."),
    "flagged": ("Not sure", "orange", "⚠️", "I could not find every part in your books. Check with your teacher."),
    "abstained": ("Not in my books", "gray", "📕", "Your books do not talk about this. Let's ask your teacher!"),
}

CSS = """
<style>
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; line-height: 1.6; }
  [data-testid="stExpander"] summary p { font-size: 1.1rem; }
  [data-testid="stChatInput"] textarea { font-size: 1.2rem; }
  .sb-answer { font-size: 1.5rem; line-height: 1.5; font-weight: 600; margin: 0.2rem 0 0.6rem 0; }
</style>
"""


def use_large_text() -> None:
    st.html(CSS)


ABSTAINED_WITH_PAGES = "I could not find a sure answer in your books. These pages might help. Ask your teacher!"


def verdict_badge(verdict: str | None, has_pages: bool = False) -> None:
    label, color, icon, sentence = BADGES.get(verdict or "", BADGES["flagged"])
    st.badge(label, icon=icon, color=color)
    st.markdown(ABSTAINED_WITH_PAGES if verdict == "abstained" and has_pages else sentence)


def answer_text(text: str) -> None:
    st.markdown(f'<div class="sb-answer">{_escape_html(text)}</div>', unsafe_allow_html=True)


def claim_highlights(claims: list[dict], citation_numbers: dict[str, int]) -> None:
    """One line per claim: green when the books say so, the wrong part struck through beside the fix, orange
    when it could not be confirmed, grey when it was left out."""
    if not claims:
        return
    st.markdown("**How I checked each part:**")
    lines = [_claim_line(c, citation_numbers) for c in claims]
    st.markdown("\n".join(f"- {line}" for line in lines))


def _claim_line(claim: dict, citation_numbers: dict[str, int]) -> str:
    text = escape_md(claim["text"])
    cite = _cite_mark(claim, citation_numbers)
    if claim["verdict"] == "supported":
        return f"✅ :green-background[{text}]{cite}"
    if claim["verdict"] == "contradicted" and claim.get("correction"):
        fix = escape_md(claim["correction"])
        return f"✏️ ~~{text}~~ → :blue-background[{fix}]{cite}"
    if claim["verdict"] == "contradicted":
        return f"❌ ~~{text}~~ (your books say something else, so I left this out){cite}"
    return f"❓ :orange-background[{text}] (I could not find this in your books){cite}"


def _cite_mark(claim: dict, citation_numbers: dict[str, int]) -> str:
    citation = claim.get("citation")
    number = citation_numbers.get(citation_key(citation)) if citation else None
    return f" 📖 [{number}]" if number else ""


def citation_key(citation: dict) -> str:
    return f"{citation['doc_id']}|{citation['section']}|{citation['text'][:80]}"


def cited_passages(answer: dict) -> list[dict]:
    """The passages the claims were checked against, then the retrieved ones, each once, in that order."""
    seen: dict[str, dict] = {}
    for claim in answer.get("claims", []):
        if claim.get("citation") and claim["verdict"] in ("supported", "contradicted"):
            seen.setdefault(citation_key(claim["citation"]), claim["citation"])
    if not seen:
        for citation in answer.get("citations", []):
            seen.setdefault(citation_key(citation), citation)
    return list(seen.values())


def citation_expanders(citations: list[dict]) -> None:
    for number, citation in enumerate(citations, start=1):
        chapter, section = split_section(citation["section"])
        title = f"📖 [{number}] {citation['book']} — {chapter}" + (f" — {section}" if section else "")
        with st.expander(title):
            st.markdown(f"**Book:** {escape_md(citation['book'])}  \n**Chapter:** {escape_md(chapter)}"
                        + (f"  \n**Section:** {escape_md(section)}" if section else ""))
            st.markdown(f"> {escape_md(plain_passage(citation['text']))}")


def split_section(section: str) -> tuple[str, str]:
    """'Chapter 1 › Step 2' -> ('Chapter 1', 'Step 2'); a lone heading is the chapter."""
    parts = [p.strip() for p in section.split("›") if p.strip()]
    if not parts:
        return "(no chapter)", ""
    return parts[0], " › ".join(parts[1:])


def plain_passage(text: str) -> str:
    text = re.sub(r"^#+\s*", "", text, flags=re.MULTILINE)
    return " ".join(text.split())


def show_answer(answer: dict) -> None:
    """An answer as a child sees it: the text, the badge, the checked parts and the passages. A question or answer
    a safety layer stopped shows only its kind message."""
    if answer.get("safety", {}).get("action") in ("redirected", "blocked"):
        answer_text(answer["answer"])
        return
    abstained = answer.get("verdict") == "abstained"
    citations = answer.get("citations", []) if abstained else cited_passages(answer)
    answer_text(answer["answer"])
    verdict_badge(answer.get("verdict"), has_pages=bool(citations))
    numbers = {citation_key(c): i for i, c in enumerate(citations, start=1)}
    if not abstained:
        claim_highlights(answer.get("claims", []), numbers)
    if citations:
        st.markdown("**Pages that might help:**" if abstained else "**Where I found it:**")
        citation_expanders(citations)


GETTING_READY = "StudyBuddy is getting ready. Please come back in a few minutes, or ask your teacher."


def getting_ready(err: StudyBuddyError) -> None:
    """The answer checker is not built yet: the child is told to come back, never shown an unchecked answer."""
    st.info(GETTING_READY, icon="⏳")
    with st.expander("For your teacher"):
        st.write(f"{err.problem} {err.fix}".strip())


def friendly_error(err: StudyBuddyError, for_child: bool = True) -> None:
    if for_child:
        st.warning("Oops! Something is not ready yet, so I can't answer right now. Please tell your teacher.", icon="🙈")
        with st.expander("For your teacher"):
            st.write(f"{err.problem} {err.fix}".strip())
    else:
        st.error(f"{err.problem} {err.fix}".strip())


def escape_md(text: str) -> str:
    """Keep a passage or claim from being read as Markdown or Streamlit directives."""
    text = text.replace("\\", "\\\\")
    for ch in "*_`[]<>#~$|":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
