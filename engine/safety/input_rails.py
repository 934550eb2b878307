"""The input layer, before retrieval: length limit, per-session rate limit, jailbreak patterns, unsafe topics and
multi-turn escalation; then the homework-integrity layer. Each returns a `SafetyDecision`; the first that stops
the question decides what the child sees.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from engine.core.config import SafetyConfig
from engine.core.vocabulary import SafetyAction, SafetyDecision
from engine.safety import homework, jailbreaks, topics
from engine.safety.classifier import ClassifierScore, SafetyClassifier, strongest_view
from engine.safety.encodings import View, english_share, views
from engine.safety.messages import message_for
from engine.safety.rules import Detection, scan, signal_total, strongest
from engine.safety.session import SafetySession, Turn, trajectory

log = logging.getLogger(__name__)

INPUT, HOMEWORK_LAYER, INPUT_CLASSIFIER = "input", "homework", "input_classifier"
MIN_CLASSIFIER_WORDS = 3  # "hi", "yes", "123": too little text for a sentence classifier; the rules still read it
ESCALATION = "multi_turn_escalation"
_ANAPHOR = re.compile(r"\b(?:it|one|ones|them|those|these|that|this|some|the stuff|the thing)\b")
_PROCEDURAL = re.compile(
    r"\b(?:step by step|all the steps|exact(?:ly)?|how much|how many|amounts?|ingredients|in detail|what do i need|what would i need|"
    r"and then what|go on|keep going|continue|tell me more|more details|at home|without (?:the |my )?(?:parents|teacher|anyone) (?:noticing|knowing|seeing))\b"
)
_TOPIC_WORD = re.compile(
    r"\b(?:bombs?|explosives?|guns?|weapons?|poison(?:ous)?|poison gas|toxic gas|knives|knife|drugs|pills|beer|alcohol|vodka|"
    r"weed|cigarettes?|vapes?|chemicals?)\b"
)


@dataclass(frozen=True)
class InputCheck:
    """The input and homework layers' decisions for one question; `decision` is the one that counts."""

    decisions: list[SafetyDecision]
    detections: list[Detection]

    @property
    def decision(self) -> SafetyDecision:
        stopping = [d for d in self.decisions if d.stops]
        return stopping[0] if stopping else self.decisions[-1]

    @property
    def stopped(self) -> bool:
        return self.decision.stops


class InputRails:
    """The rules, and with a `classifier` the learned layer beside them: a question is stopped when either does."""

    def __init__(self, config: SafetyConfig, classifier: SafetyClassifier | None = None):
        self.config = config
        self.rules = jailbreaks.RULES + topics.RULES
        self.homework_rules = homework.RULES
        self.classifier = classifier

    @property
    def threshold(self) -> float:
        return self.config.classifier_input_threshold or (self.classifier.input_threshold if self.classifier else 1.0)

    def check_many(self, questions: list[str]) -> list[InputCheck]:
        """Many independent questions (no session), the classifier reading all their views in one batch."""
        scored: list[ClassifierScore | None] = [None] * len(questions)
        if self.classifier is not None:
            readings, owner = [], []
            for i, q in enumerate(questions):
                if len(q) > self.config.max_question_chars:
                    continue
                for view in classifier_views(views(q, max_chars=self.config.max_question_chars)):
                    readings.append(view)
                    owner.append(i)
            scores = self.classifier.score([v.text for v in readings], views=[v.how for v in readings])
            per: dict[int, list[ClassifierScore]] = {}
            for i, s in zip(owner, scores):
                per.setdefault(i, []).append(s)
            scored = [strongest_view(per[i]) if i in per else None for i in range(len(questions))]
        return [self.check(q, scored=s) for q, s in zip(questions, scored)]

    def score(self, text_views: list[View]) -> ClassifierScore:
        readings = classifier_views(text_views)
        return strongest_view(self.classifier.score([v.text for v in readings], views=[v.how for v in readings]))

    def check(self, question: str, session: SafetySession | None = None, now: float | None = None,
              scored: ClassifierScore | None = None) -> InputCheck:
        c = self.config
        if len(question) > c.max_question_chars:
            return self._stop(SafetyAction.BLOCKED, INPUT, "too_long", f"The message has {len(question)} characters (limit {c.max_question_chars}).")
        if session is not None and not session.admit(now, c.rate_limit_questions, c.rate_limit_window_s):
            return self._stop(SafetyAction.BLOCKED, INPUT, "rate_limited", f"More than {c.rate_limit_questions} questions within {c.rate_limit_window_s:.0f} s in this session.")
        text_views = views(question, max_chars=c.max_question_chars)
        found = scan(self.rules, text_views)
        homework_found = scan(self.homework_rules, text_views)
        risk = signal_total(found + homework_found)
        previous = session.recent(c.escalation_turns) if session is not None else []

        decisions: list[SafetyDecision] = [self._input_decision(found)]
        if not decisions[0].stops and previous:
            decisions[0] = self._escalation(question, text_views, previous, risk) or decisions[0]
        if self.classifier is not None:
            learned = self._classifier_decision(scored if scored is not None else self.score(text_views))
            caring_first = learned.stops and learned.category == topics.SELF_HARM and decisions[0].category != topics.SELF_HARM
            decisions.insert(0, learned) if caring_first else decisions.append(learned)
        if not any(d.stops for d in decisions):
            decisions.append(self._homework_decision(homework_found))
        check = InputCheck(decisions, found + homework_found)
        if session is not None:
            stopped = check.decision
            words = tuple(dict.fromkeys(m.group(0) for m in _TOPIC_WORD.finditer(text_views[0].text)))
            session.remember(Turn(text_views[0].text, 1.0 if stopped.stops else risk, stopped.stops, words, stopped.category if stopped.stops else ""))
        for d in decisions:
            if d.stops:
                log.info("safety: %s by the %s layer (%s)", d.action.value, d.layer, d.category)
        return check

    # --- the layers -------------------------------------------------------------------------------------------
    def _input_decision(self, found: list[Detection]) -> SafetyDecision:
        harm = [d for d in found if d.category == topics.SELF_HARM and d.strong]
        decisive = harm[0] if harm else strongest(found)
        if decisive is not None:
            category = decisive.category
            if decisive.decoded and not any(d.strong and not d.decoded for d in found):
                category = jailbreaks.ENCODING if category != topics.SELF_HARM else category
            also = sorted({d.category for d in found if d.strong} - {decisive.category})
            reason = f"'{decisive.rule}' ({decisive.category}) matched \"{decisive.evidence}\""
            reason += f" in the {decisive.view} reading" if decisive.decoded else ""
            reason += f"; also: {', '.join(also)}" if also else ""
            return _decision(SafetyAction.REDIRECTED, INPUT, category, reason, decisive.evidence)
        total = signal_total(found)
        if total >= self.config.escalation_threshold:
            weak = sorted(found, key=lambda d: -d.weight)
            frame = [d for d in weak if d.category == jailbreaks.SMUGGLING]
            category = (frame or weak)[0].category
            names = ", ".join(sorted({d.rule for d in weak}))
            return _decision(SafetyAction.REDIRECTED, INPUT, category, f"signals add up to {total:.2f}: {names}", weak[0].evidence)
        return SafetyDecision(SafetyAction.ALLOWED, INPUT, "none", _allowed_reason(found, total))

    def _escalation(self, question: str, text_views: list[View], previous: list[Turn], risk: float) -> SafetyDecision | None:
        """Multi-turn escalation: the trajectory of the last turns' signals, and the last turns read together (a
        request split over several messages, or "how do I make one?" after a dangerous thing was named)."""
        c = self.config
        plain = text_views[0].text
        procedural = 0.4 if _PROCEDURAL.search(plain) else 0.0
        score = trajectory(previous, risk + procedural, c.escalation_decay)
        last_category = next((t.category for t in reversed(previous) if t.stopped and t.category), "")
        if score >= c.escalation_threshold and (risk + procedural) > 0:
            return _decision(
                SafetyAction.REDIRECTED, INPUT, ESCALATION,
                f"conversation risk {score:.2f} over the last {len(previous) + 1} turns (this turn {risk + procedural:.2f})",
                plain[:120], message_for(last_category) if last_category else "",
            )
        joined = " ".join([t.text for t in previous[-2:]] + [plain])
        carried = [w for t in previous[-3:] for w in t.topics]
        readings = [View(joined, "plain")]
        if carried and _ANAPHOR.search(plain):
            readings.append(View(f"{plain} ({' '.join(dict.fromkeys(carried))})", "plain"))
        together = strongest(scan(self.rules + self.homework_rules, readings))
        if together is not None:
            return _decision(
                SafetyAction.REDIRECTED, INPUT, ESCALATION,
                f"read with the previous turns, '{together.rule}' ({together.category}) matched \"{together.evidence}\"",
                together.evidence, message_for(together.category),
            )
        return None

    def _classifier_decision(self, s: ClassifierScore) -> SafetyDecision:
        where = f" in the {s.view} reading" if s.view not in ("plain", "normalised") else ""
        if s.score >= self.threshold and s.words < MIN_CLASSIFIER_WORDS:
            return SafetyDecision(SafetyAction.ALLOWED, INPUT_CLASSIFIER, "none",
                                  f"{s.category} {s.score:.2f}, but {s.words} word(s) are too few for the classifier to judge (the rules still do)",
                                  score=s.score)
        if s.score >= self.threshold:
            return SafetyDecision(SafetyAction.REDIRECTED, INPUT_CLASSIFIER, s.category,
                                  f"the safety classifier scores {s.category} {s.score:.2f} (threshold {self.threshold:.2f}){where}",
                                  message_for(s.category), score=s.score)
        return SafetyDecision(SafetyAction.ALLOWED, INPUT_CLASSIFIER, "none",
                              f"the safety classifier's highest harm score is {s.category} {s.score:.2f} (threshold {self.threshold:.2f}){where}",
                              score=s.score)

    def _homework_decision(self, found: list[Detection]) -> SafetyDecision:
        decisive = strongest(found)
        if decisive is None:
            return SafetyDecision(SafetyAction.ALLOWED, HOMEWORK_LAYER, "none", "no request to do the work instead of the student")
        return _decision(SafetyAction.REDIRECTED, HOMEWORK_LAYER, homework.HOMEWORK, f"'{decisive.rule}' matched \"{decisive.evidence}\"", decisive.evidence)

    def _stop(self, action: SafetyAction, layer: str, category: str, reason: str) -> InputCheck:
        log.info("safety: %s by the %s layer (%s)", action.value, layer, category)
        return InputCheck([_decision(action, layer, category, reason)], [])


# readings a sentence embedder reads as well as the plain text ("u" is "you" to it): not embedded again
_SAME_TO_THE_CLASSIFIER = ("textspeak",)


def classifier_views(text_views: list[View]) -> list[View]:
    """The readings the classifier scores: those the rules read (a reversed or ROT13 reading only when it reads
    more like English than the message itself), less the ones that only spell words out."""
    plain_share = english_share(text_views[0].text) if text_views else 0.0
    keep = []
    for view in text_views:
        if view.how in _SAME_TO_THE_CLASSIFIER:
            continue
        if view.how in ("reversed", "reversed words", "rot13"):
            share = english_share(view.text)
            if share < 0.25 or share <= plain_share:
                continue
        keep.append(view)
    return keep or text_views[:1]


def _decision(action: SafetyAction, layer: str, category: str, reason: str, evidence: str = "", message: str = "") -> SafetyDecision:
    return SafetyDecision(action, layer, category, reason, message or message_for(category), evidence)


def _allowed_reason(found: list[Detection], total: float) -> str:
    if not found:
        return "no jailbreak pattern or unsafe topic found"
    return f"only light signals ({total:.2f}): {', '.join(sorted({d.rule for d in found}))}"
