"""Defense in depth for a tutor that serves children: no single layer holds, so every layer exists.

    input layer (before retrieval)   input_rails.py: length, per-session rate limit, jailbreak patterns
                                     (jailbreaks.py) read in every decoding (encodings.py), unsafe topics
                                     (topics.py), multi-turn escalation (session.py)
    homework layer                   homework.py: "write my essay" becomes step-by-step help
    retrieved-content layer          knowledge_base/injection.py: planted instructions flagged at ingestion, neutralised in every
                                     retrieved passage
    output layer                     output_rails.py: planted instruction obeyed? fit for a child? outside links
                                     removed, personal details (pii.py) redacted

Every layer's decision is a `SafetyDecision` (engine/core/vocabulary.py); the conversation log keeps them all.
"""

from engine.safety.rails import SafetyRails
from engine.safety.session import SafetySession

__all__ = ["SafetyRails", "SafetySession"]
