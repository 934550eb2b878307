"""Every answer a student saw, logged to SQLite, and the marks staff give the doubtful ones.

No student names are stored: a conversation is known only by a random session id. The database uses WAL so
the app can write while staff read the review queue; each call opens its own connection, so one log object
can be shared between threads.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO, Iterator

from engine.core.config import Config
from engine.core.errors import StudyBuddyError
from engine.core.vocabulary import Answer
from engine.safety.pii import redact_text

MARKS = ("correct", "wrong")
NEEDS_REVIEW = ("flagged", "corrected", "abstained")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    ts REAL NOT NULL,
    library TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    verdict TEXT,
    confidence REAL,
    claims_json TEXT NOT NULL,
    citations_json TEXT NOT NULL,
    model TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_verdict ON conversations(verdict);
CREATE TABLE IF NOT EXISTS reviews (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
    mark TEXT NOT NULL CHECK (mark IN ('correct', 'wrong')),
    note TEXT NOT NULL DEFAULT '',
    ts REAL NOT NULL,
    reviewer TEXT NOT NULL DEFAULT ''
);
"""


def default_path(config: Config) -> Path:
    return config.logs_dir / "conversations.sqlite3"


class ConversationLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            _add_columns(db)

    @classmethod
    def for_config(cls, config: Config) -> "ConversationLog":
        return cls(default_path(config))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per call: committed on success, rolled back on error, always closed."""
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # durable: a committed conversation survives a crash or power cut
            with db:
                yield db

    # --- writing ------------------------------------------------------------------------------------------
    def log_answer(self, session_id: str, library: str, answer: Answer) -> int:
        """Store one answer the student saw, with every safety layer's decision; returns its id. Personal details
        (emails, phone numbers, addresses, private names) are redacted before anything is written."""
        data = answer.to_json()
        public = " ".join(p.text for p in answer.passages)  # names from the books are not private
        row = (
            session_id,
            time.time(),
            library,
            redact_text(answer.question, public),
            redact_text(answer.text, public),
            data.get("verdict"),
            data.get("confidence"),
            redact_text(json.dumps(data.get("claims", []), ensure_ascii=False), public),
            json.dumps(data["citations"], ensure_ascii=False),
            answer.model,
        )
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO conversations (session_id, ts, library, question, answer, verdict, confidence, claims_json,"
                " citations_json, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            conversation_id = int(cursor.lastrowid)
            db.execute("UPDATE conversations SET safety_json = ? WHERE id = ?", (_safety_json(answer, public), conversation_id))
            if answer.model_manifest is not None:  # which model said it: path, fingerprint, parameters (same transaction)
                db.execute(
                    "UPDATE conversations SET model_manifest_json = ? WHERE id = ?",
                    (json.dumps(answer.model_manifest, sort_keys=True), conversation_id),
                )
            return conversation_id

    def mark(self, conversation_id: int, mark: str, note: str = "", reviewer: str = "") -> None:
        """Staff's judgement of one answer; marking again replaces the earlier mark."""
        if mark not in MARKS:
            raise StudyBuddyError(f"'{mark}' is not a review mark.", f"Use one of: {', '.join(MARKS)}.")
        with self._connect() as db:
            if db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is None:
                raise StudyBuddyError(f"There is no conversation {conversation_id} in the log.", "Reload the review queue.")
            db.execute(
                "INSERT OR REPLACE INTO reviews (conversation_id, mark, note, ts, reviewer) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, mark, note.strip(), time.time(), reviewer),
            )

    # --- reading ------------------------------------------------------------------------------------------
    def review_queue(self, limit: int = 50) -> list[dict]:
        """Flagged, corrected and abstained answers nobody has marked yet, oldest first."""
        marks = ", ".join("?" for _ in NEEDS_REVIEW)
        return self._rows(
            f"SELECT c.* FROM conversations c LEFT JOIN reviews r ON r.conversation_id = c.id"
            f" WHERE r.conversation_id IS NULL AND c.verdict IN ({marks}) ORDER BY c.id LIMIT ?",
            (*NEEDS_REVIEW, limit),
        )

    def recent(self, limit: int = 50) -> list[dict]:
        """The latest conversations with their marks (if any), newest first."""
        return self._rows(
            "SELECT c.*, r.mark, r.note, r.reviewer FROM conversations c LEFT JOIN reviews r ON r.conversation_id = c.id"
            " ORDER BY c.id DESC LIMIT ?",
            (limit,),
        )

    def safety_events(self, limit: int = 50) -> list[dict]:
        """The latest questions or answers a safety layer redirected, blocked or changed, newest first; each row's
        `safety` says which layer decided and why."""
        return self._rows(
            "SELECT c.* FROM conversations c WHERE json_extract(c.safety_json, '$.final.category') NOT IN ('none')"
            " ORDER BY c.id DESC LIMIT ?",
            (limit,),
        )

    def stopped(self, limit: int = 200) -> list[dict]:
        """The latest questions or answers a safety layer redirected or blocked, newest first."""
        return self._rows(
            "SELECT c.* FROM conversations c WHERE json_extract(c.safety_json, '$.final.action') IN ('redirected', 'blocked')"
            " ORDER BY c.id DESC LIMIT ?",
            (limit,),
        )

    def around(self, conversation_id: int, turns: int = 3) -> list[dict]:
        """The conversation around one logged turn: up to `turns` turns of the same session before and after it."""
        with self._connect() as db:
            row = db.execute("SELECT session_id FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        if row is None:
            return []
        before = self._rows("SELECT c.* FROM conversations c WHERE c.session_id = ? AND c.id < ? ORDER BY c.id DESC LIMIT ?",
                            (row["session_id"], conversation_id, turns))
        rest = self._rows("SELECT c.* FROM conversations c WHERE c.session_id = ? AND c.id >= ? ORDER BY c.id LIMIT ?",
                          (row["session_id"], conversation_id, turns + 1))
        return list(reversed(before)) + rest

    def marks(self) -> list[dict]:
        """Every marked conversation with its mark, in the order they were logged."""
        return self._rows(
            "SELECT c.*, r.mark, r.note, r.reviewer, r.ts AS marked_ts FROM conversations c"
            " JOIN reviews r ON r.conversation_id = c.id ORDER BY c.id",
            (),
        )

    def export_marks_jsonl(self, target: str | Path | IO[str]) -> int:
        """Write the marks as JSONL (one future golden question a line); returns how many were written."""
        rows = self.marks()
        lines = [json.dumps(_golden(row), ensure_ascii=False) + "\n" for row in rows]
        if isinstance(target, (str, Path)):
            Path(target).write_text("".join(lines), encoding="utf-8")
        else:
            target.writelines(lines)
        return len(lines)

    def _rows(self, sql: str, params: tuple) -> list[dict]:
        with self._connect() as db:
            rows = [dict(r) for r in db.execute(sql, params).fetchall()]
        for row in rows:
            row["claims"] = json.loads(row.pop("claims_json"))
            row["citations"] = json.loads(row.pop("citations_json"))
            row["model_manifest"] = json.loads(row.pop("model_manifest_json", None) or "null")
            row["safety"] = json.loads(row.pop("safety_json", None) or "{}")
        return rows


# Columns added after logs already existed: created on open in an older database (ALTER TABLE), kept out of _SCHEMA.
_ADDED_COLUMNS = {"model_manifest_json": "TEXT", "safety_json": "TEXT"}


def _add_columns(db: sqlite3.Connection) -> None:
    have = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
    for name, declaration in _ADDED_COLUMNS.items():
        if name not in have:
            try:
                db.execute(f"ALTER TABLE conversations ADD COLUMN {name} {declaration}")
            except sqlite3.OperationalError as err:  # another process added it a moment ago
                if "duplicate column" not in str(err):
                    raise


def _safety_json(answer: Answer, public: str) -> str:
    """{"final": the summary decision, "decisions": every layer's, in order}, personal details redacted."""
    payload = {
        "final": answer.safety.to_json() if answer.safety is not None else None,
        "decisions": [{**d.to_json(), "evidence": d.evidence} for d in answer.safety_trail],
    }
    return redact_text(json.dumps(payload, ensure_ascii=False), public)


def _golden(row: dict) -> dict:
    return {
        "id": row["id"],
        "question": row["question"],
        "answer": row["answer"],
        "verdict": row["verdict"],
        "mark": row["mark"],
        "note": row["note"],
        "library": row["library"],
        "citations": [{"book": c["book"], "section": c["section"], "doc_id": c["doc_id"]} for c in row["citations"]],
        "claims": [{"text": c["text"], "verdict": c["verdict"], "correction": c.get("correction")} for c in row["claims"]],
        "ts": row["ts"],
        "marked_ts": row["marked_ts"],
    }
