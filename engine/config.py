"""One configuration object, loadable from TOML and overridable from the command line."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from engine.errors import StudyBuddyError

DEFAULT_EMBEDDER = "packaged:all-MiniLM-L6-v2"
DEFAULT_GENERATOR = "packaged:SmolLM2-135M-Instruct"


def default_home() -> Path:
    return Path(os.environ.get("STUDYBUDDY_HOME") or Path.home() / ".studybuddy")


def default_cache() -> Path:
    if os.environ.get("STUDYBUDDY_CACHE"):
        return Path(os.environ["STUDYBUDDY_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "studybuddy"


@dataclass(frozen=True)
class ChunkingConfig:
    chunk_size: int = 192  # in the embedder's tokens, so no chunk is ever truncated when embedded
    chunk_overlap: int = 32


@dataclass(frozen=True)
class RetrievalConfig:
    top_k: int = 4
    min_relevance: float = 0.35  # dense cosine below which a passage is not about the question
    hybrid: bool = True  # BM25 + dense, fused
    bm25_weight: float = 0.35
    index_type: str = "flat"  # flat (exact) | hnsw | ivf


@dataclass(frozen=True)
class GenerationConfig:
    max_new_tokens: int = 96
    temperature: float = 0.7
    threads: int = 0  # 0: let torch decide


@dataclass(frozen=True)
class VerificationConfig:
    # always: vote and CoVe on every answer | cascade: CoVe only for the claims the cheap checks are unsure of,
    # voting only when claims are still unsure after CoVe
    mode: str = "always"
    samples: int = 5  # self-consistency: answers drawn in one batched call
    temperature: float = 0.4  # low: a 135M model's samples at 0.7 are mostly noise, not alternative answers
    group_similarity: float = 0.8  # answers this similar (cosine) say the same thing
    support_threshold: float = 0.5  # p(supported) at which a claim counts as backed by a passage
    contradiction_threshold: float = 0.5
    flag_floor: float = 0.2  # unconfirmed claims below this p(supported) are dropped, above it flagged
    unsupported_policy: str = "flag"  # flag: keep uncertain claims with a warning | drop: remove them
    cascade_confidence: float = 0.8  # cascade mode: a draft whose every claim is this sure skips CoVe (and, after CoVe, voting)
    cove: bool = True
    cove_max_new_tokens: int = 32
    evidence_per_claim: int = 4
    # Abstain before generating when no sentence of the top passages is this relevant to the question
    # (verifiers/answerability.py: calibrated on SciQ dev, 82% of not-in-book questions turned away, 8% of answerable).
    answerable_threshold: float = 0.6
    quote_fallback: bool = True  # when no generated claim survives, answer a covered question with the book's sentence
    nli_model: str | None = None  # any Hugging Face NLI cross-encoder, by path or id, used in addition


@dataclass(frozen=True)
class Config:
    home: Path = field(default_factory=default_home)
    cache_dir: Path = field(default_factory=default_cache)
    library: str = "sample"
    embedder: str = DEFAULT_EMBEDDER
    embedder_precision: str = "auto"  # embedder and claim verifier: auto = bfloat16 where the CPU has it natively | fp32 | bf16
    generator: str = DEFAULT_GENERATOR
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    verification: VerificationConfig = field(default_factory=VerificationConfig)

    @property
    def libraries_dir(self) -> Path:
        return self.home / "libraries"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def with_overrides(self, **overrides) -> "Config":
        """Replace top-level fields whose override is not None (CLI flags left unset stay as they are)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["home"], d["cache_dir"] = str(self.home), str(self.cache_dir)
        return d

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Config":
        """Defaults, then the TOML file (if given, or $STUDYBUDDY_CONFIG, or HOME/studybuddy.toml)."""
        base = cls()
        if path is None:
            env = os.environ.get("STUDYBUDDY_CONFIG")
            path = Path(env) if env else base.home / "studybuddy.toml"
            if not path.exists():
                return base
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StudyBuddyError(f"Config file {path} does not exist.", "Check the path, or leave --config out to use the defaults.")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise StudyBuddyError(f"Config file {path} is not valid TOML: {err}.", "Fix the file, or leave --config out.")
        return _from_dict(base, raw, str(path))


_SECTIONS = {
    "chunking": ChunkingConfig,
    "retrieval": RetrievalConfig,
    "generation": GenerationConfig,
    "verification": VerificationConfig,
}


def _from_dict(base: Config, raw: dict, where: str) -> Config:
    known = {f.name for f in fields(Config)}
    updates: dict = {}
    for key, value in raw.items():
        if key not in known:
            raise StudyBuddyError(f"Unknown setting '{key}' in {where}.", f"Known settings: {', '.join(sorted(known))}.")
        if key in _SECTIONS:
            section_cls = _SECTIONS[key]
            allowed = {f.name for f in fields(section_cls)}
            bad = set(value) - allowed
            if bad:
                raise StudyBuddyError(f"Unknown setting(s) {sorted(bad)} in [{key}] of {where}.", f"Known: {', '.join(sorted(allowed))}.")
            updates[key] = replace(getattr(base, key), **value)
        elif key in ("home", "cache_dir"):
            updates[key] = Path(value).expanduser()
        else:
            updates[key] = value
    return replace(base, **updates)
