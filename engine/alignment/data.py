"""The alignment data: reading and checking the JSONL files, and turning records into TRL's conversational format.

A record (one JSON object per line):

- sft.jsonl: `id`, `behaviour`, `question`, `passages` (list of {`section`, `text`, `book`}), `response`;
- dpo.jsonl: the same but `chosen` and `rejected` instead of `response`;
- behavior_eval.jsonl: `id`, `behaviour`, `question`, `passages`, `judge` (what engine/alignment/judges.py checks).

`prompt_messages(record)` renders the runtime prompt (system persona + the user turn quoting the passages) with
`engine.prompts.grounded_messages`; `sft_dataset_rows` / `dpo_dataset_rows` give TRL's prompt/completion and
prompt/chosen/rejected rows.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.core.errors import StudyBuddyError
from engine.core.vocabulary import Passage
from engine.prompts import grounded_messages

DATA_DIR = Path(__file__).resolve().parent / "data"
SFT_FILE = DATA_DIR / "sft.jsonl"
DPO_FILE = DATA_DIR / "dpo.jsonl"
EVAL_FILE = DATA_DIR / "behavior_eval.jsonl"

# What the data teaches, in the words the eval table uses.
BEHAVIOURS = {
    "grounded": "answers from the books, citing the passage",
    "homework": "guides step by step instead of handing over a homework answer",
    "essay": "helps plan an essay instead of writing it",
    "inappropriate": "kindly redirects an age-inappropriate request",
    "not_in_books": "says when the books do not cover the question",
    "sycophancy": "kindly corrects a wrong claim instead of agreeing",
}


def read_jsonl(path: Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise StudyBuddyError(f"{path} does not exist.", "Run scripts/make_alignment_data to build the alignment data.")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise StudyBuddyError(f"{path}:{number} is not valid JSON ({err}).", "Fix the line or rebuild the file.") from err
        if not isinstance(record, dict):
            raise StudyBuddyError(f"{path}:{number} is not a JSON object.", "Fix the line or rebuild the file.")
        records.append(record)
    return records


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def passages_of(record: dict) -> list[Passage]:
    return [
        Passage(text=p["text"], book=p.get("book", ""), section=p.get("section", ""), doc_id=p.get("doc_id", ""))
        for p in record["passages"]
    ]


def prompt_messages(record: dict) -> list[dict[str, str]]:
    """The exact messages the tutor sends at run time for this question and these passages."""
    return grounded_messages(record["question"], passages_of(record))


REQUIRED = {
    "sft": ("id", "behaviour", "question", "passages", "response"),
    "dpo": ("id", "behaviour", "question", "passages", "chosen", "rejected"),
    "eval": ("id", "behaviour", "question", "passages", "judge"),
}


def problems(record: dict, kind: str) -> list[str]:
    """What is wrong with one record (empty when it is fine)."""
    found = [f"missing '{k}'" for k in REQUIRED[kind] if k not in record]
    if found:
        return found
    if record["behaviour"] not in BEHAVIOURS:
        found.append(f"unknown behaviour '{record['behaviour']}'")
    if not isinstance(record["question"], str) or not record["question"].strip():
        found.append("empty question")
    passages = record["passages"]
    if not isinstance(passages, list) or not passages:
        found.append("no passages")
    elif not all(isinstance(p, dict) and str(p.get("text", "")).strip() and "section" in p for p in passages):
        found.append("a passage without text or section")
    texts = [record[k] for k in ("response", "chosen", "rejected") if k in record]
    if not all(isinstance(t, str) and t.strip() for t in texts):
        found.append("an empty response")
    if kind == "dpo" and record["chosen"].strip() == record["rejected"].strip():
        found.append("chosen == rejected")
    if kind == "eval" and not isinstance(record["judge"], dict):
        found.append("judge is not an object")
    return found


def load(path: Path, kind: str) -> list[dict]:
    """Read and check a data file; raise with the first bad records named."""
    records = read_jsonl(path)
    bad = [f"{r.get('id', i)}: {', '.join(p)}" for i, r in enumerate(records) if (p := problems(r, kind))]
    if bad:
        raise StudyBuddyError(f"{path} has {len(bad)} bad record(s): {'; '.join(bad[:5])}.", "Fix them or rebuild the file.")
    if not records:
        raise StudyBuddyError(f"{path} holds no records.", "Run scripts/make_alignment_data.")
    return records


def sft_dataset_rows(records: list[dict]) -> list[dict]:
    """TRL's conversational prompt/completion rows: the loss falls on the tutor's reply only."""
    return [{"prompt": prompt_messages(r), "completion": [{"role": "assistant", "content": r["response"]}]} for r in records]


def dpo_dataset_rows(records: list[dict]) -> list[dict]:
    """TRL's conversational preference rows (prompt, chosen, rejected)."""
    return [
        {
            "prompt": prompt_messages(r),
            "chosen": [{"role": "assistant", "content": r["chosen"]}],
            "rejected": [{"role": "assistant", "content": r["rejected"]}],
        }
        for r in records
    ]
