"""The chunker counts in the embedding model's own tokens: no chunk is longer than the embedder reads."""

from __future__ import annotations

import pytest

from engine.core.config import ChunkingConfig
from engine.core.errors import StudyBuddyError
from engine.core.packaged import embedder_tokenizer
from knowledge_base.chunking import Chunker
from knowledge_base.ingest import SAMPLE_LIBRARY_DIR
from knowledge_base.sources import read, scan

# what tiktoken and WordPiece count very differently: numbers, symbols, words WordPiece cuts into many pieces,
# and a run-on paragraph with no sentence end for the splitter to cut at
AWKWARD = (
    "# Hard text\n\n## Numbers\n\n"
    + " ".join(f"6.02214076×10^{n} mol⁻¹ ≈ {n * 1234567.891:,.3f}" for n in range(120)) + "\n\n"
    + "## Names\n\n" + " ".join(["Tenochtitlan Quetzalcoatl Mesoamerican photosynthesizing electroencephalography"] * 80) + "\n\n"
    + "## Run-on\n\n" + " and ".join(f"the river carried silt past town {n}" for n in range(300)) + "\n"
)


def token_count(tokenizer, text: str) -> int:
    return len(tokenizer(text, truncation=False)["input_ids"])  # [CLS] and [SEP] included, as the embedder reads it


def test_no_chunk_is_longer_than_the_embedder_reads(tmp_path):
    tokenizer, limit = embedder_tokenizer()
    book = tmp_path / "book"
    book.mkdir()
    (book / "hard.md").write_text(AWKWARD, encoding="utf-8")
    docs = [d for f in scan([book, SAMPLE_LIBRARY_DIR]).files for d in read(f)]
    config = ChunkingConfig()
    chunker = Chunker(config)
    chunks = [c for d in docs for c in chunker.chunk(d)]
    counts = [token_count(tokenizer, c.text) for c in chunks]
    assert limit == chunker.token_limit == 256 and len(chunks) > 80
    assert max(counts) <= config.chunk_size + 2 <= limit
    hard = [c for c in chunks if c.file.endswith("hard.md")]
    assert len(hard) >= 6 and all(c.text for c in hard)  # the long sections are cut, not dropped
    text = docs[[d.file for d in docs].index(hard[0].file)].text
    assert all(text[c.start_char : c.end_char] == c.text for c in hard)


def test_a_chunk_size_the_embedder_cannot_read_whole_is_refused():
    with pytest.raises(StudyBuddyError, match=r"chunk_size = 400 is more than .* reads \(254 tokens\)") as err:
        Chunker(ChunkingConfig(chunk_size=400))
    assert "254 or less" in err.value.fix
