"""Ingestion end to end with the real packaged embedder: incremental, atomic, and loses nothing on bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from knowledge_base import library as store
from knowledge_base.chunking import Chunker
from knowledge_base.ingest import EmbedderMismatch, NothingToIngest, ingest
from knowledge_base.sources import read, scan
from tests.conftest import REPO
from tests.documents import write_pdf

pytestmark = pytest.mark.integration


def make_book(folder, chapters: dict[str, str]):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in chapters.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


PLANETS = "# Planets\n\n## Mercury\n\nMercury is the closest planet to the Sun.\n\n## Jupiter\n\nJupiter is the largest planet.\n"
RAIN = "# Rain\n\nRain falls when droplets in a cloud grow too heavy to float.\n"


def test_chunks_carry_true_offsets_and_sections(config, tmp_path):
    book = make_book(tmp_path / "space", {"planets.md": PLANETS})
    doc = read(scan([book]).files[0])[0]
    chunks = Chunker(config.chunking).chunk(doc)
    assert [c.section for c in chunks] == ["Planets › Mercury", "Planets › Jupiter"]
    for chunk in chunks:
        assert doc.text[chunk.start_char : chunk.end_char] == chunk.text


def test_ingest_then_second_run_changes_nothing(config, tmp_path):
    book = make_book(tmp_path / "space", {"planets.md": PLANETS, "rain.md": RAIN})
    first = ingest(config, [book], "science")
    assert first.added == 2 and first.wrote and first.total_chunks >= 3
    second = ingest(config, [book], "science")
    assert second.changed_documents == 0 and not second.wrote and second.unchanged == 2
    manifest = store.read_manifest(config.libraries_dir, "science")
    assert manifest["embedder"]["dimension"] == 384
    assert manifest["counts"] == {"books": 1, "documents": 2, "chunks": first.total_chunks}
    assert set(manifest["documents"]) == {"space/planets.md", "space/rain.md"}


def test_a_library_cut_in_other_tokens_is_cut_again(config, tmp_path):
    book = make_book(tmp_path / "space", {"planets.md": PLANETS, "rain.md": RAIN})
    ingest(config, [book], "science")
    version = store.current_version(store.library_dir(config.libraries_dir, "science"))
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["chunking"]["tokens_of"] == config.embedder
    del manifest["chunking"]["tokens_of"]  # a library from before chunks were counted in the embedder's tokens
    (version / "manifest.json").write_text(json.dumps(manifest))
    again = ingest(config, [book], "science")
    assert again.changed == 2 and again.wrote
    assert store.read_manifest(config.libraries_dir, "science")["chunking"]["tokens_of"] == config.embedder


def test_the_sample_library_is_cut_again_after_an_upgrade(tmp_path):
    from engine.core.config import Config
    from knowledge_base.ingest import ensure_sample_library

    config = Config(home=tmp_path / "home")
    ensure_sample_library(config)
    version = store.current_version(store.library_dir(config.libraries_dir, "sample"))
    manifest = json.loads((version / "manifest.json").read_text())
    chunks = manifest["counts"]["chunks"]
    manifest["chunking"] = {"chunk_size": 192, "chunk_overlap": 32}  # as an older StudyBuddy recorded it
    (version / "manifest.json").write_text(json.dumps(manifest))
    ensure_sample_library(config)
    again = store.read_manifest(config.libraries_dir, "sample")
    assert again["chunking"]["tokens_of"] == config.embedder and again["counts"]["chunks"] == chunks


def test_changed_document_is_replaced_and_book_removed(config, tmp_path):
    book = make_book(tmp_path / "space", {"planets.md": PLANETS, "rain.md": RAIN})
    ingest(config, [book], "science")
    (book / "rain.md").write_text("# Rain\n\nSnow falls instead of rain when the air is cold.\n")
    report = ingest(config, [book], "science")
    assert (report.added, report.changed, report.removed, report.unchanged) == (0, 1, 0, 1)
    texts = [c.text for c in store.load(config.libraries_dir, "science").chunks]
    assert any("Snow falls" in t for t in texts) and not any("too heavy" in t for t in texts)

    other = make_book(tmp_path / "history", {"lincoln.md": "# Lincoln\n\nLincoln was the 16th president.\n"})
    ingest(config, [other], "science")
    report = ingest(config, [], "science", remove_books=["space"])
    assert report.removed == 2
    data = store.load(config.libraries_dir, "science")
    assert {c.book for c in data.chunks} == {"history"} and data.index.ntotal == len(data.chunks)


def test_bad_files_are_reported_good_files_ingested_library_intact(config, tmp_path):
    good = make_book(tmp_path / "space", {"planets.md": PLANETS})
    ingest(config, [good], "science")
    before = store.load(config.libraries_dir, "science")

    mixed = tmp_path / "mixed"
    make_book(mixed, {"rain.md": RAIN})
    (mixed / "blank.txt").write_bytes(b"")
    (mixed / "photo.txt").write_bytes(bytes(range(256)) * 10)
    (mixed / "old.txt").write_bytes("Caf\xe9".encode("latin-1") * 10)
    (mixed / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    write_pdf(mixed / "volcano.pdf", "Volcanoes form where magma reaches the surface.")
    (mixed / "kb.jsonl").write_text('{"doc_id": "k1", "text": "Bees make honey."}\n{broken\n')
    report = ingest(config, [mixed], "science")

    reasons = {os.path.basename(p.path): p.reason for p in report.problems}
    assert set(reasons) == {"blank.txt", "photo.txt", "old.txt", "broken.pdf", "kb.jsonl"}
    assert "empty" in reasons["blank.txt"] and "binary" in reasons["photo.txt"] and "UTF-8" in reasons["old.txt"]
    assert "line 2" in reasons["kb.jsonl"]
    after = store.load(config.libraries_dir, "science")
    keys = {c.key for c in after.chunks}
    assert {"space/planets.md", "mixed/rain.md", "mixed/volcano.pdf", "mixed/k1"} <= keys
    assert all(c in after.chunks for c in before.chunks)  # nothing that was there was lost


def test_empty_folder_changes_nothing(config, tmp_path):
    good = make_book(tmp_path / "space", {"planets.md": PLANETS})
    ingest(config, [good], "science")
    (tmp_path / "empty").mkdir()
    report = ingest(config, [tmp_path / "empty"], "science")
    assert not report.wrote and "no textbook files" in report.problems[0].reason
    with pytest.raises(NothingToIngest):
        ingest(config, [tmp_path / "empty"], "new-library")
    assert store.list_libraries(config.libraries_dir) == ["science"]


def test_unknown_library_names_the_existing_ones(config, tmp_path):
    ingest(config, [make_book(tmp_path / "space", {"planets.md": PLANETS})], "science")
    with pytest.raises(Exception) as err:
        store.load(config.libraries_dir, "histroy")
    message = str(err.value)
    assert "no library called 'histroy'" in message and "science" in message and "studybuddy ingest" in message


def test_embedder_mismatch_is_refused(config, tmp_path):
    from knowledge_base.embeddings import Embedder
    from knowledge_base.retrieval import Retriever

    book = make_book(tmp_path / "space", {"planets.md": PLANETS})
    ingest(config, [book], "science")
    other = replace(config, embedder=str(tmp_path / "some-other-model"))
    with pytest.raises(EmbedderMismatch, match="built with the embedder"):
        ingest(other, [book], "science")
    data = store.load(config.libraries_dir, "science")
    data.manifest["embedder"]["dimension"] = 768  # as if built by a 768-dimensional model of the same name
    with pytest.raises(EmbedderMismatch, match="768-dimensional"):
        Retriever(data, Embedder(config.embedder), config.retrieval)


def _ingest_process(home, path, library):
    env = {**os.environ, "STUDYBUDDY_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "-v", "ingest", str(path), "--library", library],
        cwd=REPO, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )


@pytest.mark.parametrize("moment", ["embedding", "writing library"])
def test_sigkill_during_ingestion_leaves_previous_library_usable(config, tmp_path, shared_data, moment):
    small = make_book(tmp_path / "space", {"planets.md": PLANETS})
    ingest(config, [small], "lib")
    before = store.load(config.libraries_dir, "lib")

    proc = _ingest_process(config.home, shared_data / "textbooks" / "openstax-physics", "lib")
    deadline = time.time() + 240
    for line in proc.stderr:
        if moment in line:
            break
        assert time.time() < deadline, "ingestion never reached the moment to kill it"
    if moment == "embedding":
        time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    after = store.load(config.libraries_dir, "lib")
    assert after.folder in (before.folder,) or after.manifest["counts"]["documents"] > 1
    if after.folder == before.folder:
        assert after.chunks == before.chunks and after.index.ntotal == before.index.ntotal
    # A later ingestion cleans up whatever the killed one left behind.
    ingest(config, [small], "lib")
    leftovers = [p.name for p in (config.libraries_dir / "lib").iterdir() if p.name.startswith("v-")]
    assert len(leftovers) == 1
