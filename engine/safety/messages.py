"""What the child sees instead of an answer: short, kind, in the tutor's own voice, never a lecture. Worrying
messages (self-harm, someone hurting them, someone touching them) always point to a trusted adult."""

from __future__ import annotations

TRUSTED_ADULT = "a grown-up you trust, like a parent, a teacher or the school counsellor"

MESSAGES: dict[str, str] = {
    "self_harm": (
        "I'm really glad you told me. You matter, and you don't have to feel this way on your own. "
        f"Please talk to {TRUSTED_ADULT} today. If you might hurt yourself, tell an adult near you right now so "
        "they can help you call for help. 💛"
    ),
    "violence": (
        "I can't help with hurting anyone. If someone is being mean to you or you feel unsafe, please tell "
        f"{TRUSTED_ADULT}. Would you like to learn something from your books instead?"
    ),
    "weapons_chemicals": (
        "That could be really dangerous, so I can't help with it. Science is amazing when it's safe — shall we "
        "find out how chemical reactions work in your books?"
    ),
    "sexual_content": (
        "That's not something I can talk about. If anyone ever makes you feel uncomfortable or asks you to keep "
        f"a secret about your body, please tell {TRUSTED_ADULT}. What would you like to learn from your books?"
    ),
    "drugs": (
        "I can't help with that. Drugs, alcohol and vapes can hurt growing bodies. If you have questions about "
        "them, a parent, teacher or the school nurse is a great person to ask."
    ),
    "crime": (
        "I can't help with that one. If something was taken from you or someone is in trouble, a grown-up you "
        "trust can help. Want to explore something from your books instead?"
    ),
    "hate_harassment": (
        "Everyone deserves to be treated kindly, so I can't help with that. If someone is being unkind to you or "
        f"to others, {TRUSTED_ADULT} can help. Shall we learn something from your books?"
    ),
    "jailbreak": "I'll keep being your StudyBuddy and stick to your books. What would you like to learn about?",
    "bad_language": "I like to use kind words only! 😊 Want to hear a fun fact from your books instead?",
    "homework_integrity": (
        "I can't do the whole thing for you, but I'd love to help you do it yourself, step by step! "
        "1) Tell me your topic. 2) We'll find the facts in your books together. 3) You write the first sentence "
        "and I'll help you check it. What's your topic?"
    ),
    "authority_manipulation": (
        "Thanks for telling me! I help everyone the same way, so I'll keep being your StudyBuddy. "
        "What would you like to find out from your books?"
    ),
    "persona_roleplay": (
        "I'm always StudyBuddy — that's who I like being! 😊 Ask me anything about your school books and "
        "we'll find out together."
    ),
    "instruction_override": (
        "I'll keep being your StudyBuddy and stick to your books. What would you like to learn about?"
    ),
    "context_smuggling": (
        "I only answer from your approved school books. Ask me a question about them and I'll help!"
    ),
    "emotional_manipulation": (
        "I can tell this matters a lot to you. I can't do that, but I'm here to help you learn, step by step. "
        f"If you're feeling worried or upset, {TRUSTED_ADULT} can help too."
    ),
    "encoding_tricks": (
        "That looks like a secret code! I only answer plain questions about your school books. What would you "
        "like to know?"
    ),
    "multi_turn_escalation": (
        "Let's get back to learning! What would you like to find out from your books?"
    ),
    "too_long": "That's a very long message! Please ask me one short question at a time.",
    "rate_limited": "Wow, that's a lot of questions! Let's take a little break and try again in a minute.",
    "empty": "Type a question first, then I'll help!",
    "unsafe_answer": "Hmm, I can't share that answer. Let's ask your teacher!",
    "injected_answer": "Hmm, something in that page didn't look right, so I won't use it. Let's ask your teacher!",
}


def message_for(category: str) -> str:
    return MESSAGES.get(category, MESSAGES["instruction_override"])
