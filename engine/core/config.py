"""One configuration object, loadable from TOML and overridable from the command line."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from engine.core.errors import StudyBuddyError

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
    # sampled answers (the self-consistency vote) are drawn from this seed, so the same question gets the same
    # verdict twice and a run can be repeated; -1: a fresh draw every time
    seed: int = 0
    precision: str = "fp32"  # the local generator's weights: fp32 | bf16 | auto (bfloat16 where the CPU has it natively)


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
    # only a passage that contains what a claim adds to the question (its answer terms) can back it
    require_answer_terms: bool = True
    # a claim naming another name or number than the one a book sentence pairs with its question is corrected from
    # that sentence, however the claim verifier scored it (verifiers/slot_conflict.py)
    slot_conflicts: bool = True
    nli_model: str | None = None  # any Hugging Face NLI cross-encoder, by path or id, used in addition


@dataclass(frozen=True)
class SafetyConfig:
    """The safety layers (engine/safety): input rails before retrieval, passages quoted with planted instructions
    neutralised, output rails on the final answer."""

    enabled: bool = True
    max_question_chars: int = 2000  # longer messages are turned away before any other check
    rate_limit_questions: int = 20  # per session, within rate_limit_window_s
    rate_limit_window_s: float = 60.0
    escalation_turns: int = 6  # multi-turn escalation: how many recent turns the trajectory score weighs
    escalation_decay: float = 0.7  # each older turn counts this much less
    escalation_threshold: float = 1.0  # a conversation whose risk trajectory reaches this is redirected
    neutralise_passages: bool = True  # instruction-like spans in retrieved passages are replaced before use
    redact_pii: bool = True  # emails, phone numbers, street addresses, private full names: in answers and logs
    remove_links: bool = True  # links in an answer that are not in its approved passages are removed
    approved_link_hosts: tuple[str, ...] = ()  # hosts whose links may always be shown, e.g. "openstax.org"
    classifier: bool = True  # the learned input and output classifiers (engine/safety/classifier.py) beside the rules
    classifier_input_threshold: float = 0.0  # stop a question whose harm score reaches this; 0: the head's tuned threshold
    classifier_output_threshold: float = 0.0  # block an answer whose harm score reaches this; 0: the head's tuned threshold
    classifier_path: str = ""  # a folder with classifier_head.npz/.json (scripts/train_safety_classifier --out); "": the shipped head


@dataclass(frozen=True)
class GeneratorConfig:
    """Where answers come from: the `[generator]` section (its `model` key is Config.generator).

    backend "transformers" loads Config.generator locally (engine/models/checkpoints.py says which forms are accepted);
    "openai" sends requests to an OpenAI-compatible server at base_url, Config.generator naming the served model."""

    backend: str = "transformers"  # transformers | openai
    checkpoint: str = "latest"  # a Trainer output folder: latest | best | N
    base_model: str = ""  # a LoRA adapter's base model, when adapter_config.json's is not on this computer
    merge_adapter: bool = False  # merge a LoRA adapter once into a cached checkpoint (faster starts)
    allow_pickle: bool = False  # load pickle-only (.bin) weights: they can run code, so only from a trusted source
    base_url: str = ""  # openai: e.g. http://gpu-box:8000/v1
    timeout_s: float = 60.0
    retries: int = 2
    api_key_env: str = "STUDYBUDDY_API_KEY"  # the environment variable holding the endpoint's API key, if it needs one


@dataclass(frozen=True)
class ClassroomConfig:
    """Many students at once (engine/classroom.py): model calls that wait together run as one batched call."""

    window_ms: float = 40.0  # how long a model call waits for other students' calls to join it (not at all when all are in)
    max_generate_prompts: int = 8  # prompts per generate call: on a CPU a bigger batch lasts as long as its longest answer
    max_pairs: int = 512  # claim-verifier pairs per call
    max_texts: int = 256  # embedder texts per call
    max_students: int = 40  # questions being answered at once; one more is told to ask again in a moment


@dataclass(frozen=True)
class Config:
    home: Path = field(default_factory=default_home)
    cache_dir: Path = field(default_factory=default_cache)
    library: str = "sample"
    embedder: str = DEFAULT_EMBEDDER
    embedder_precision: str = "auto"  # embedder and claim verifier: auto = bfloat16 where the CPU has it natively | fp32 | bf16
    generator: str = DEFAULT_GENERATOR
    generator_options: GeneratorConfig = field(default_factory=GeneratorConfig)  # the [generator] section
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    verification: VerificationConfig = field(default_factory=VerificationConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    classroom: ClassroomConfig = field(default_factory=ClassroomConfig)

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
    "safety": SafetyConfig,
    "classroom": ClassroomConfig,
}


def _from_dict(base: Config, raw: dict, where: str) -> Config:
    known = {f.name for f in fields(Config)}
    updates: dict = {}
    for key, value in raw.items():
        if key not in known:
            raise StudyBuddyError(f"Unknown setting '{key}' in {where}.", f"Known settings: {', '.join(sorted(known))}.")
        if key in ("generator", "generator_options") and isinstance(value, dict):
            updates.update(_generator_section(base, value, where))
            continue
        if key in _SECTIONS:
            section_cls = _SECTIONS[key]
            allowed = {f.name for f in fields(section_cls)}
            bad = set(value) - allowed
            if bad:
                raise StudyBuddyError(f"Unknown setting(s) {sorted(bad)} in [{key}] of {where}.", f"Known: {', '.join(sorted(allowed))}.")
            section = getattr(base, key)
            value = {name: _checked(f"[{key}] {name}", v, getattr(section, name), where) for name, v in value.items()}
            updates[key] = replace(section, **value)
        elif key in ("home", "cache_dir"):
            updates[key] = Path(_checked(key, value, "", where)).expanduser()
        else:
            updates[key] = _checked(key, value, getattr(base, key), where)
    return replace(base, **updates)


# Settings that take one of a few words; a typo ("cascde") must not silently run the default.
_CHOICES = {
    "embedder_precision": ("auto", "fp32", "bf16"),
    "[generation] precision": ("fp32", "bf16", "auto"),
    "[verification] mode": ("always", "cascade"),
    "[verification] unsupported_policy": ("flag", "drop"),
    "[retrieval] index_type": ("flat", "hnsw", "ivf"),
    "[generator] backend": ("transformers", "openai"),
}


def _checked(name: str, value, default, where: str):
    """`value` for the setting `name`, of the default's type (an int is a float too; a list of strings fills a
    tuple); anything else is refused with what the setting takes."""
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(value, bool) and isinstance(default, bool)
        wanted = "true or false"
    elif isinstance(default, float):
        ok, wanted = isinstance(value, (int, float)), "a number"
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok, wanted = isinstance(value, int), "a whole number"
    elif isinstance(default, tuple):
        ok, wanted = isinstance(value, list) and all(isinstance(v, str) for v in value), "a list of strings"
        value = tuple(value) if ok else value
    else:  # strings, and settings whose default is None (a path or model id, or nothing)
        ok, wanted = isinstance(value, str), "a string"
    if not ok:
        raise StudyBuddyError(f"Setting {name} = {value!r} in {where} is not {wanted}.", f"Write it as {wanted}, or leave it out for the default.")
    if name in _CHOICES and value not in _CHOICES[name]:
        allowed = ", ".join(f'"{c}"' for c in _CHOICES[name])
        raise StudyBuddyError(f"Setting {name} = {value!r} in {where} is not one of the allowed values.", f"Allowed: {allowed}.")
    return value


def _generator_section(base: Config, value: dict, where: str) -> dict:
    """`[generator]`: `model` (the checkpoint, or the endpoint's model name) and the GeneratorConfig settings.
    A plain `generator = "..."` string stays the shorthand for the model alone."""
    value = dict(value)
    allowed = {f.name for f in fields(GeneratorConfig)}
    bad = set(value) - allowed - {"model"}
    if bad:
        raise StudyBuddyError(f"Unknown setting(s) {sorted(bad)} in [generator] of {where}.", f"Known: {', '.join(sorted(allowed | {'model'}))}.")
    if "checkpoint" in value and isinstance(value["checkpoint"], int):
        value["checkpoint"] = str(value["checkpoint"])
    if "model" in value:
        _checked("[generator] model", value["model"], "", where)
    options = {k: _checked(f"[generator] {k}", v, getattr(base.generator_options, k), where) for k, v in value.items() if k != "model"}
    out = {"generator_options": replace(base.generator_options, **options)}
    if value.get("model"):
        out["generator"] = str(value["model"])
    return out
