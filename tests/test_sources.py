"""Reading textbook files: every supported format, and a clear reason for every bad one."""

import json

import pytest

from knowledge_base.sources import BadFile, PartialFile, read, scan
from tests.documents import write_docx, write_html, write_pdf


def only(scanned):
    assert len(scanned.files) == 1, scanned.problems
    return scanned.files[0]


def test_markdown_text_and_book_names(tmp_path):
    book = tmp_path / "earth-science"
    book.mkdir()
    (book / "ch1.md").write_text("# Rocks\n\nRocks are made of minerals.\n", encoding="utf-8")
    (book / "notes.txt").write_text("Granite is an igneous rock.", encoding="utf-8")
    (book / "README.md").write_text("not part of the book")
    (book / "LICENSE").write_text("CC BY")
    scanned = scan([book])
    assert [f.key for f in scanned.files] == ["earth-science/ch1.md", "earth-science/notes.txt"]
    docs = read(scanned.files[0])
    assert docs[0].title == "Rocks" and docs[0].markdown and docs[0].book == "earth-science"


def test_pdf_docx_html_are_read_through_llama_index_readers(tmp_path):
    files = [
        write_pdf(tmp_path / "volcanoes.pdf", "Volcanoes form where magma reaches the surface."),
        write_docx(tmp_path / "oceans.docx", ["The Pacific is the largest ocean."]),
        write_html(tmp_path / "moon.html", "The Moon", ["The Moon orbits Earth about once a month."]),
    ]
    texts = [read(only(scan([f])))[0].text for f in files]
    assert "magma reaches the surface" in texts[0]
    assert "Pacific is the largest ocean" in texts[1]
    assert "orbits Earth" in texts[2]


def test_jsonl_knowledge_base_one_document_per_line(tmp_path):
    kb = tmp_path / "facts.jsonl"
    kb.write_text("\n".join(json.dumps({"doc_id": f"d{i}", "text": f"Fact number {i}.", "source": "S"}) for i in range(3)))
    docs = read(only(scan([kb])))
    assert [d.doc_id for d in docs] == ["d0", "d1", "d2"]
    assert all(d.book == "facts" for d in docs)


def test_empty_folder_is_reported(tmp_path):
    (tmp_path / "empty").mkdir()
    scanned = scan([tmp_path / "empty"])
    assert not scanned.files
    assert "has no textbook files" in str(scanned.problems[0])


def test_zero_byte_file_is_reported(tmp_path):
    (tmp_path / "blank.md").write_bytes(b"")
    scanned = scan([tmp_path / "blank.md"])
    assert "is empty" in str(scanned.problems[0])


def test_missing_path_and_unsupported_type_are_reported(tmp_path):
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04")
    scanned = scan([tmp_path / "nope", tmp_path / "slides.pptx"])
    reasons = [str(p) for p in scanned.problems]
    assert "does not exist" in reasons[0] and "unsupported file type '.pptx'" in reasons[1]


def test_binary_file_named_txt(tmp_path):
    (tmp_path / "photo.txt").write_bytes(bytes(range(256)) * 20)
    with pytest.raises(BadFile, match="binary file"):
        read(only(scan([tmp_path / "photo.txt"])))


def test_non_utf8_text(tmp_path):
    (tmp_path / "old.txt").write_bytes("Caf\xe9 au lait is a drink.".encode("latin-1"))
    with pytest.raises(BadFile, match="not UTF-8"):
        read(only(scan([tmp_path / "old.txt"])))


def test_corrupt_pdf(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage \x00\x01\x02")
    with pytest.raises(BadFile, match="not a readable PDF|no readable text"):
        read(only(scan([tmp_path / "broken.pdf"])))


def test_jsonl_with_a_malformed_line_keeps_the_good_lines(tmp_path):
    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"doc_id": "a", "text": "Ants live in colonies."}\n{"doc_id": "b", "text": \n{"text": "no id"}\n')
    with pytest.raises(PartialFile) as partial:
        read(only(scan([kb])))
    assert [d.doc_id for d in partial.value.docs] == ["a"]
    assert partial.value.bad_lines[0].startswith("line 2: not valid JSON")
    assert "line 3: needs string fields" in partial.value.bad_lines[1]
