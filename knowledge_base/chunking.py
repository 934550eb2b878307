"""Cutting documents into passages along headings and sentences (llama-index node parsers), keeping citations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.core.config import ChunkingConfig
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
    def __init__(self, config: ChunkingConfig):
        from llama_index.core.node_parser import MarkdownNodeParser, SentenceSplitter

        self.config = config
        self._markdown = MarkdownNodeParser()
        self._sentences = SentenceSplitter(chunk_size=config.chunk_size, chunk_overlap=config.chunk_overlap)

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
