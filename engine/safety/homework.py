"""Homework integrity: asking the tutor to write the whole essay or hand over the answer key is turned into an
offer of step-by-step help. Asking for help ("help me write my essay", "how do I start my report?") is what a
tutor is for, and passes.
"""

from __future__ import annotations

from engine.safety.rules import Rule, rule

HOMEWORK = "homework_integrity"
CATEGORIES = (HOMEWORK,)

_WORK = r"(?:essays?|reports?|book reports?|home ?work|assignments?|worksheets?|projects?|papers?|paragraphs?|stor(?:y|ies)|poems?|speech|summary|lab reports?|reflections?|coursework)"
_HELPING = r"(?:help me(?: to)?|how (?:do|can|should|could) i|teach me(?: how)? to|show me how to|tips (?:to|for)|ideas (?:to|for)|how to|learn to)"

RULES: list[Rule] = [
    rule("write my work", HOMEWORK, rf"\b(?:write|do|finish|complete|make|type|compose|draft|create)\b (?:me |for me )?(?:my|our|his|her) (?:whole |entire |full |complete )?(?:[\w-]+ ){{0,2}}?{_WORK}\b", unless_before=_HELPING),
    rule("write the whole thing", HOMEWORK, rf"\b(?:write|do|finish|complete|compose|make|create)\b (?:me |for me |it |out )?(?:the|a|an|this) (?:whole|entire|full|complete|\d+[- ]words?|\d+[- ]pages?|[a-z]+[- ]paragraph|[a-z]+[- ]page|[a-z]+[- ]hundred[- ]word)\b.{{0,20}}\b(?:{_WORK}|thing|it)\b", unless_before=_HELPING),
    rule("write it for me", HOMEWORK, rf"\b(?:write|do|finish|complete|make|type)\b (?:an? |the |this |that |my )?(?:[\w-]+ ){{0,3}}?{_WORK}\b.{{0,60}}\b(?:for me|so i (?:can|don'?t|dont|do not)|i can (?:hand|turn|copy|submit)|that i can (?:hand|turn|copy|submit)|to hand in|to turn in|for (?:class|school) tomorrow)\b", unless_before=_HELPING),
    rule("word count essay", HOMEWORK, rf"\b(?:write|make|give me|i need)\b.{{0,25}}\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand)[- ]?(?:word|page|paragraph)s? {_WORK}\b", unless_before=_HELPING),
    rule("need an essay by tomorrow", HOMEWORK, r"\b(?:i need|i want|give me|can i have|send me|make me)\b.{0,15}\b(?:an? |the |my )?(?:[\w-]+ )?(?:essay|report|book report|story|poem|paper)s? (?:about|on)\b.{0,60}\b(?:for|by|due) (?:tomorrow|tonight|today|monday|tuesday|wednesday|thursday|friday|class|school|my teacher)\b.{0,30}\b(?:write|do|make)\b|\b(?:essay|report|paper|story)\b.{0,80}\b(?:write it|do it|make it) (?:for me|now)?\b"),
    rule("do my homework", HOMEWORK, r"\b(?:do|finish|complete) (?:my|our) (?:\w+ )?(?:home ?work|assignments?|worksheets?|tests?|quiz(?:zes)?|exams?|projects?|maths?|science|spelling|reading|sums)\b|\b(?:do|write) it for me\b|\bso i (?:don'?t|do not|dont) have to\b"),
    rule("pass it off as mine", HOMEWORK, rf"\bas (?:my|mine|my own) (?:own )?(?:{_WORK}|work)\b|\b(?:give|hand|turn|submit|show)\b.{{0,25}}\b(?:to )?(?:my|the) teacher as (?:my|mine|if i)\b", unless_before=_HELPING),
    rule("answer key", HOMEWORK, r"\b(?:answer (?:keys?|sheets?|booklets?|books?|guides?|pages?|lists?)|cheat ?sheets?|crib ?sheets?|answers sheet|mark ?schemes?|marking schemes?|solutions? manuals?|teacher'?s (?:edition|copy|guide|answers|answer (?:key|sheet|book)|book))\b"),
    rule("answers to the test", HOMEWORK, r"\b(?:give|tell|show|send|list|i need|i want|what are|get me|sharing?)\b.{0,15}\b(?:me |us )?(?:all )?(?:of )?(?:the |my |our )?(?:answers?|solutions?)\b.{0,12}\b(?:to|for|of|on|in) (?:the |my |this |our |tomorrow'?s? |today'?s? |page \d+ of |the whole |my whole )?(?:[\w-]+ ){0,2}?(?:test|quiz|exam|worksheet|home ?work|assignment|questions|page \d+|exercises?|problems?|problem set|chapter \d+)\b"),
    rule("just give the answer", HOMEWORK, r"\bjust (?:give|tell|send) (?:me )?(?:all )?(?:the )?(?:answers|solutions)\b"),
    rule("cheat", HOMEWORK, r"\b(?:help me |how (?:do|can) i |want to )?(?:cheat|cheating)\b.{0,20}\b(?:on|in|at|for)\b|\bhelp me cheat\b|\bso (?:the|my) teacher (?:won'?t|doesn'?t|will not|does not|can'?t|cannot) (?:know|notice|find out|tell|see)\b|\bwithout (?:the|my) teacher (?:knowing|noticing)\b"),
    rule("disguise copying", HOMEWORK, r"\b(?:paraphrase|reword|rewrite|rephrase|change the words (?:of|in))\b.{0,40}\b(?:friend'?s|someone else'?s|copied|copy|plagiari\w*|so it doesn'?t look)\b"),
    rule("hand it in", HOMEWORK, r"\b(?:so i can|that i can|to) (?:hand|turn|copy|submit) (?:it|this|that)(?: in)?\b", weight=0.5),
    rule("mentions homework", HOMEWORK, rf"\b(?:{_WORK}|due tomorrow|hand (?:it )?in)\b", weight=0.2),
]
