"""One conversation's memory for the input layer: recent turns with their risk signals (for multi-turn
escalation) and recent question times (for the rate limit). The caller owns it — one per student session,
passed to `Tutor.ask` — so nothing is shared between sessions; a lock makes one session safe to use from
several threads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Turn:
    text: str  # the normalised question
    risk: float  # the turn's signal total (a strong detection counts 1.0)
    stopped: bool  # the input layer redirected or blocked it
    topics: tuple[str, ...] = ()  # dangerous things it named (carried into the next turns' reading)
    category: str = ""  # what stopped it, if something did


@dataclass
class SafetySession:
    session_id: str = ""
    max_turns: int = 12
    turns: deque = field(default_factory=deque)
    asked_at: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def admit(self, now: float | None, limit: int, window_s: float) -> bool:
        """Count one question; False when the session has asked `limit` questions within `window_s` seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            while self.asked_at and now - self.asked_at[0] > window_s:
                self.asked_at.popleft()
            if limit > 0 and len(self.asked_at) >= limit:
                return False
            self.asked_at.append(now)
            return True

    def recent(self, n: int) -> list[Turn]:
        with self._lock:
            return list(self.turns)[-n:] if n > 0 else []

    def remember(self, turn: Turn) -> None:
        with self._lock:
            self.turns.append(turn)
            while len(self.turns) > self.max_turns:
                self.turns.popleft()


def trajectory(previous: list[Turn], current_risk: float, decay: float) -> float:
    """The conversation's risk: this turn's signals plus earlier turns', each turn back weighing `decay` times less."""
    score = current_risk
    for age, turn in enumerate(reversed(previous), start=1):
        score += (decay**age) * min(turn.risk, 1.0)
    return score
