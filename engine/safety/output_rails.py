"""The output layer, on the final answer text: does it obey a planted instruction, is it fit for a child of 6–12,
does it carry a link that is not in its approved passages, or somebody's personal details?

An answer that obeys a planted instruction or is not fit for a child is blocked (the child sees a short safe
message); links and personal details are removed from an answer that is otherwise fine.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlparse

from engine.core.config import SafetyConfig
from engine.core.vocabulary import Passage, SafetyAction, SafetyDecision
from engine.safety import pii, topics
from engine.safety.classifier import SafetyClassifier
from engine.safety.encodings import View, normalise
from engine.safety.messages import message_for
from engine.safety.rules import rule, scan, strongest
from knowledge_base import injection

log = logging.getLogger(__name__)

OUTPUT, OUTPUT_CLASSIFIER = "output", "output_classifier"

# Said *to* the child in an answer: never fine, whatever the question was.
ANSWER_RULES = topics.RULES + [
    rule("profanity", "unsafe_language", r"\b(?:fuck\w*|shit\w*|bitch\w*|bastards?|cunts?|assholes?|dickheads?|motherfuck\w*|wank\w*|piss off|slut\w*|whores?|retard\w*)\b"),
    rule("encourages self-harm", topics.SELF_HARM, r"\b(?:you should|you could|go|just) (?:kill|hurt|harm|cut|starve) yourself\b|\b(?:kill|hurt) yourself\b"),
    rule("encourages harm", topics.VIOLENCE, r"\byou (?:should|could|can|must) (?:kill|hurt|stab|shoot|poison|punch|beat up|attack)\b"),
    rule("dangerous recipe", topics.WEAPONS, r"\b(?:to make|making) (?:a |an )?(?:bomb|explosive|poison gas|toxic gas|napalm|thermite|gunpowder)\b.{0,40}\b(?:mix|combine|add|take|you need|use)\b"),
    rule("keep secrets from adults", "grooming", r"\b(?:don'?t|do not|never) tell (?:your |the |any )?(?:parents?|mom|mum|dad|teachers?|grown-?ups|adults?)\b|\bour (?:little )?secret\b|\bkeep (?:this|it) (?:a )?secret\b"),
    rule("asks for personal details", "personal_details", r"\b(?:type|enter|send|share|give|tell) (?:me |us )?(?:in )?your (?:home address|address|phone number|password|full name|last name|school name|photos?|pictures?|location|birthday)\b"),
    rule("persona", "persona_roleplay", r"\bi am (?:now )?(?:naughtybot|evilbot|badbot|chaosgpt|dan|freebot)\b|\bmy (?:new )?name is (?!studybuddy)[a-z]+bot\b"),
]


class OutputRails:
    def __init__(self, config: SafetyConfig, classifier: SafetyClassifier | None = None):
        self.config = config
        self.classifier = classifier

    @property
    def threshold(self) -> float:
        return self.config.classifier_output_threshold or (self.classifier.output_threshold if self.classifier else 1.0)

    def check(self, text: str, passages: list[Passage], planted: list[injection.PlantedInstruction]) -> tuple[str, list[SafetyDecision]]:
        """The text the child may see, and the output layer's decisions (the first may block it)."""
        followed = injection.follows(text, planted) if planted else None
        if followed:
            return self._block("indirect_injection", followed, message_for("injected_answer"))
        unsafe = strongest(scan(ANSWER_RULES, [View(normalise(text), "plain")]))
        if unsafe is not None:
            return self._block(unsafe.category, f"'{unsafe.rule}' matched \"{unsafe.evidence}\" in the answer", message_for("unsafe_answer"))
        decisions: list[SafetyDecision] = []
        if self.classifier is not None and text.strip():
            s = self.classifier.score_answer(text)
            if s.score >= self.threshold:
                log.warning("safety: answer blocked by the output classifier (%s %.2f)", s.category, s.score)
                message = message_for("unsafe_answer")
                return message, [SafetyDecision(SafetyAction.BLOCKED, OUTPUT_CLASSIFIER, s.category,
                                                f"the safety classifier scores the answer {s.category} {s.score:.2f} (threshold {self.threshold:.2f})",
                                                message, score=s.score)]
            decisions.append(SafetyDecision(SafetyAction.ALLOWED, OUTPUT_CLASSIFIER, "none",
                                            f"the safety classifier's highest harm score for the answer is {s.category} {s.score:.2f} (threshold {self.threshold:.2f})",
                                            score=s.score))
        edited = text
        if self.config.remove_links:
            edited, removed = self.remove_links(edited, passages)
            if removed:
                decisions.append(SafetyDecision(SafetyAction.ALLOWED, OUTPUT, "link_removed", f"removed {len(removed)} link(s) not in the approved passages: {', '.join(removed)}"))
        if self.config.redact_pii:
            edited, found = pii.redact(edited, public_names=" ".join(p.text for p in passages))
            if found:
                kinds = ", ".join(sorted({r.kind for r in found}))
                decisions.append(SafetyDecision(SafetyAction.ALLOWED, OUTPUT, "pii_redacted", f"redacted {len(found)} personal detail(s): {kinds}"))
        if not any(d.layer == OUTPUT for d in decisions):
            decisions.append(SafetyDecision(SafetyAction.ALLOWED, OUTPUT, "none", "fit for a child; no planted instruction followed, no outside link, no personal details"))
        return edited, decisions

    def clean(self, text: str, passages: list[Passage]) -> str:
        """Links and personal details removed (for the other texts shown with an answer: claims, corrections)."""
        if not text:
            return text
        if self.config.remove_links:
            text = self.remove_links(text, passages)[0]
        if self.config.redact_pii:
            text = pii.redact_text(text, public_names=" ".join(p.text for p in passages))
        return text

    def remove_links(self, text: str, passages: list[Passage]) -> tuple[str, list[str]]:
        approved = {u.lower() for p in passages for u in injection.urls(p.text)}
        hosts = {h.lower() for h in self.config.approved_link_hosts}
        removed: list[str] = []

        def drop(match: re.Match) -> str:
            link = match.group(0).rstrip(".,;:!?")
            tail = match.group(0)[len(link):]
            host = urlparse(link if "://" in link else f"http://{link}").hostname or ""
            if link.lower() in approved or any(host == h or host.endswith("." + h) for h in hosts):
                return match.group(0)
            removed.append(link)
            return "[link removed]" + tail

        return injection._URL.sub(drop, text), removed

    def _block(self, category: str, reason: str, message: str) -> tuple[str, list[SafetyDecision]]:
        log.warning("safety: answer blocked by the output layer (%s)", category)
        return message, [SafetyDecision(SafetyAction.BLOCKED, OUTPUT, category, reason, message)]
