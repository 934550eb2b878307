"""`studybuddy screen FILE`: a file of prompts through the input layers (rules and classifier), without
generating anything. One prompt a line, or JSONL with a `text` (or `prompt` / `question`) field."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import StudyBuddyError
from engine.safety.input_rails import InputRails

MAX_FILE_BYTES = 50_000_000
BATCH = 512


@dataclass(frozen=True)
class Screened:
    line: int
    text: str
    action: str
    layer: str  # the layers that stopped it, joined by "+" ("input+input_classifier"); "-" when allowed
    category: str
    score: float | None  # the classifier's score (None when a length check stopped it before the classifier)
    reason: str

    def to_json(self) -> dict:
        return {"line": self.line, "text": self.text[:200], "action": self.action, "layer": self.layer, "category": self.category,
                "score": None if self.score is None else round(self.score, 4), "reason": self.reason}


def read_prompts(path: Path) -> list[tuple[int, str]]:
    """(line number, prompt) for every non-empty line; a clear error for a missing, binary or empty file."""
    if not path.exists():
        raise StudyBuddyError(f"There is no file {path}.", "Give a text file with one prompt a line, or JSONL with a \"text\" field.")
    if path.is_dir():
        raise StudyBuddyError(f"{path} is a folder, not a file of prompts.", "Give a text or JSONL file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise StudyBuddyError(f"{path} is {size / 1e6:.0f} MB; screen takes files up to {MAX_FILE_BYTES / 1e6:.0f} MB.", "Split it into smaller files.")
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise StudyBuddyError(f"{path} looks like a binary file (it contains NUL bytes), not prompts.", "Give a UTF-8 text file with one prompt a line.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise StudyBuddyError(f"{path} is not UTF-8 text (byte {err.start} cannot be read).", "Save it as UTF-8 and try again.") from err
    prompts: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("{"):
            try:
                row = json.loads(stripped)
            except json.JSONDecodeError:
                row = None
            if isinstance(row, dict):
                value = next((row[k] for k in ("text", "prompt", "question") if isinstance(row.get(k), str)), None)
                if value is None:
                    raise StudyBuddyError(f"{path}, line {number}: a JSON object without a \"text\" field.", "Give each JSONL line a \"text\" (or \"prompt\") string.")
                if value.strip():
                    prompts.append((number, value))
                continue
        prompts.append((number, line))
    if not prompts:
        raise StudyBuddyError(f"{path} has no prompts in it (it is empty or only blank lines).", "Put one prompt on each line.")
    return prompts


def screen(rails: InputRails, prompts: list[tuple[int, str]], progress: bool = False) -> list[Screened]:
    from tqdm.auto import tqdm

    out: list[Screened] = []
    with tqdm(total=len(prompts), desc="screening", unit="prompt", disable=not progress) as bar:
        for start in range(0, len(prompts), BATCH):
            chunk = prompts[start : start + BATCH]
            for (number, text), check in zip(chunk, rails.check_many([t for _, t in chunk])):
                d = check.decision
                score = next((x.score for x in check.decisions if x.score is not None), None)
                layers = "+".join(dict.fromkeys(x.layer for x in check.decisions if x.stops)) or "-"
                out.append(Screened(number, text, d.action.value, layers, d.category, score, d.reason))
            bar.update(len(chunk))
    return out


def summary(results: list[Screened]) -> dict:
    stopped = [r for r in results if r.action != "allowed"]
    return {
        "prompts": len(results), "stopped": len(stopped), "allowed": len(results) - len(stopped),
        "by_layer": dict(Counter(layer for r in stopped for layer in r.layer.split("+"))), "by_category": dict(Counter(r.category for r in stopped)),
    }
