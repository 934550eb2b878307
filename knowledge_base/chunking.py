"""Cutting documents into passages along headings and sentences (llama-index node parsers), keeping citations.

Chunk sizes are counted in the embedding model's own tokens (its tokenizer is given to llama-index's
SentenceSplitter), so a chunk of `chunk_size` tokens is never cut short when it is embedded: a chunk_size the
embedder cannot read whole is refused."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from engine.core.config import ChunkingConfig
from engine.core.errors import StudyBuddyError
from engine.core.packaged import PACKAGED_EMBEDDER, embedder_tokenizer
from knowledge_base.sources import SourceDoc

HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
HEADING = re.compile(r"^\s*(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Chunk:
    key: str  # the document's key in the library (what incremental ingestion tracks)
    doc_id: str
    book: str
    section: str
    file: str
    text: str
    start_char: int
    end_char: int


class Chunker:
    """`chunk(doc)`: the document's passages, each at most `config.chunk_size` tokens of the embedder `embedder`."""

    def __init__(self, config: ChunkingConfig, embedder: str = PACKAGED_EMBEDDER):
        from llama_index.core.node_parser import MarkdownNodeParser, SentenceSplitter

        tokenizer, self.token_limit = embedder_tokenizer(embedder)
        readable = self.token_limit - 2  # [CLS] and [SEP]
        if config.chunk_size > readable:
            raise StudyBuddyError(
                f"[chunking] chunk_size = {config.chunk_size} is more than the embedding model '{embedder}' reads ({readable} tokens): "
                "the end of every long chunk would be lost.", f"Set chunk_size to {readable} or less.")
        self.config = config
        self.count_tokens = _token_counter(tokenizer)
        self._markdown = MarkdownNodeParser()
        self._sentences = SentenceSplitter(chunk_size=config.chunk_size, chunk_overlap=config.chunk_overlap, tokenizer=self.count_tokens)

    def chunk(self, doc: SourceDoc) -> list[Chunk]:
        from llama_index.core import Document

        # Comments (like OpenStax's provenance header) are blanked, not removed, so offsets stay true.
        text = HTML_COMMENT.sub(lambda m: " " * len(m.group(0)), doc.text)
        document = Document(text=text, id_=doc.key)
        sections = self._markdown.get_nodes_from_documents([document]) if doc.markdown else [document]
        chunks: list[Chunk] = []
        for section in sections:
            section_text = section.get_content()
            section_start = getattr(section, "start_char_idx", None) or 0
            heading = _section_name(doc, section_text, section.metadata.get("header_path", ""))
            if not section_text.strip() or _only_heading(section_text):
                continue
            piece_doc = Document(text=section_text, id_=f"{doc.key}#{section_start}")
            for node in self._sentences.get_nodes_from_documents([piece_doc]):
                body = node.get_content().strip()
                if not body:
                    continue
                local = node.start_char_idx if node.start_char_idx is not None else section_text.find(body)
                start = section_start + max(local, 0)
                chunks.append(
                    Chunk(
                        key=doc.key,
                        doc_id=doc.doc_id,
                        book=doc.book,
                        section=heading,
                        file=doc.file,
                        text=body,
                        start_char=start,
                        end_char=start + len(body),
                    )
                )
        return chunks


def _token_counter(tokenizer):
    """text -> its tokens, every one of them (the splitter calls this for every piece it weighs, so the Rust
    tokenizer is called directly, on a copy without the truncation and padding a tokenizer.json may carry)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return lambda text: tokenizer.encode(text, add_special_tokens=False, truncation=False)
    backend = copy.deepcopy(backend)
    backend.no_truncation()
    backend.no_padding()
    return lambda text: backend.encode(text, add_special_tokens=False).ids


def _only_heading(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return all(HEADING.match(line) for line in lines)


def _section_name(doc: SourceDoc, section_text: str, header_path: str) -> str:
    parts = [p for p in header_path.strip("/").split("/") if p]
    first = section_text.lstrip().splitlines()[0] if section_text.strip() else ""
    own = HEADING.match(first)
    if own:
        parts.append(own.group(2))
    if doc.chapter and (not parts or doc.chapter.lower() not in parts[0].lower()):
        parts.insert(0, doc.chapter)
    if not parts:
        parts = [doc.title] if doc.title else []
    return " › ".join(_dedupe(parts))


def _dedupe(parts: list[str]) -> list[str]:
    out: list[str] = []
    for p in parts:
        if not out or out[-1].lower() != p.lower():
            out.append(p)
    return out
