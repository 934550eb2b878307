"""Teacher alerts: a stopped question or answer gets a severity tier, so staff read the worrying ones first.

    tier 1  a child may be in danger, or may hurt someone: self-harm, violence against a person
    tier 2  a harmful request: weapons and dangerous chemicals, sexual content, drugs, crime and hacking, hate and
            harassment, grooming, an answer unfit for a child, an escalating conversation
    tier 3  misuse of the tutor: jailbreaks, role-play, instruction override, encoding tricks, homework, limits
"""

from __future__ import annotations

TIER_NAMES = {1: "Tier 1 — a child may be at risk (self-harm, violence against a person)",
              2: "Tier 2 — harmful request",
              3: "Tier 3 — misuse of the tutor"}
_TIER_1 = {"self_harm", "violence"}
_TIER_2 = {"weapons_chemicals", "sexual_content", "drugs", "crime", "hate_harassment", "bad_language", "unsafe_language",
           "grooming", "personal_details", "multi_turn_escalation", "indirect_injection"}


def tier(category: str) -> int:
    if category in _TIER_1:
        return 1
    return 2 if category in _TIER_2 else 3


def stopping_decisions(safety: dict) -> list[dict]:
    return [d for d in safety.get("decisions", []) if d.get("action", "allowed") != "allowed"]


def alert_tier(safety: dict) -> int | None:
    """The most severe tier among the layers that stopped this conversation turn; None when nothing stopped it.
    A rule and the classifier may read one message differently ("encoding_tricks" vs "weapons_chemicals"): the
    graver reading counts."""
    stopped = stopping_decisions(safety)
    final = safety.get("final") or {}
    if final.get("action", "allowed") != "allowed":
        stopped.append(final)
    return min((tier(d.get("category", "")) for d in stopped), default=None)
