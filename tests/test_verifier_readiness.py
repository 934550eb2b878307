"""A fresh clone builds its claim verifier from the shipped data, and nothing half-built or damaged is ever used:
damaged data is named, a read-only cache is a message, an interrupted checkpoint is not loaded, and a student's
question without a verifier gets "getting ready" (no training at question time)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.core.errors import StudyBuddyError
from verifiers.claim_verifier import ClaimVerifier
from verifiers.verifier_checkpoint import VerifierNotReady, checkpoint_complete, checkpoint_folder, not_ready
from verifiers import verifier_checkpoint as shipped
from verifiers.verifier_training import data
from verifiers.verifier_training.train import train_checkpoint


@pytest.fixture
def data_copy(tmp_path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(shipped.SHIPPED_DATA, dst)
    return dst


def test_the_shipped_data_is_whole_and_licensed():
    shipped.verify_shipped()
    paths = shipped.resolve_data()
    assert paths.eval_dir == shipped.SHIPPED_DATA
    names = {f.name for f in shipped.SHIPPED_DATA.iterdir()}
    assert {"README.md", "LICENSE-SciTail-Apache-2.0", "LICENSE-QASC-CC-BY-4.0"} <= names
    assert not any("sciq" in n.lower() for n in names)  # CC BY-NC: never shipped
    assert (shipped.SHIPPED_DATA / "textbooks" / "openstax-physics" / "LICENSE").exists()
    assert any(f.parent == shipped.SAMPLE_BOOK_DIR for f in paths.textbook_files())  # the sample book trains too


def test_a_partial_data_file_is_named_before_training(data_copy):
    f = data_copy / "scitail_dev.jsonl"
    f.write_bytes(f.read_bytes()[: 5000])  # a download or copy cut short
    with pytest.raises(StudyBuddyError) as err:
        shipped.resolve_data(data_copy)
    assert "scitail_dev.jsonl" in err.value.problem and "damaged or partial" in err.value.problem
    assert "git checkout -- " in err.value.fix


def test_a_missing_textbook_file_is_named(data_copy):
    victim = sorted((data_copy / "textbooks" / "openstax-physics").glob("*.md"))[3]
    victim.unlink()
    with pytest.raises(StudyBuddyError) as err:
        shipped.resolve_data(data_copy)
    assert victim.name in err.value.problem and "missing" in err.value.problem


def test_an_unreadable_jsonl_line_is_a_message_not_a_traceback(tmp_path):
    f = tmp_path / "broken.jsonl"
    f.write_text('{"sentence1": "a", "sentence2": "b", "gold_label": "E"}\n{"sentence1": \n')
    with pytest.raises(StudyBuddyError) as err:
        data.load_pairs_file(f)
    assert "broken.jsonl" in err.value.problem


def test_the_scitail_held_out_split_is_fixed_and_never_trained_on():
    split = data.scitail_split(shipped.resolve_data())
    held = {p.source for p in split["eval"]}
    assert len(held) == 412  # 30% of the 1,304 dev pairs, by a hash of the id: the same on every machine
    assert not held & {p.source for p in split["ce"] + split["comb"]}


def test_an_unwritable_cache_is_a_clear_message(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")  # (root ignores chmod; a file blocks anyone)
    with pytest.raises(StudyBuddyError) as err:
        train_checkpoint(blocker)
    assert "Cannot write the claim verifier" in err.value.problem and "STUDYBUDDY_CACHE" in err.value.fix


def _fake_checkpoint(folder: Path) -> None:
    (folder / "cross_encoder").mkdir(parents=True)
    (folder / "cross_encoder" / "config.json").write_text("{}")
    (folder / "cross_encoder" / "model.safetensors").write_bytes(b"x" * 4096)
    (folder / "combiner.json").write_text("{}")
    files = {f.relative_to(folder).as_posix(): f.stat().st_size for f in folder.rglob("*") if f.is_file()}
    (folder / "meta.json").write_text(json.dumps({"files": files}))


def test_a_checkpoint_cut_short_is_not_loaded_and_nothing_trains(tmp_path):
    folder = checkpoint_folder(tmp_path / "cache")
    _fake_checkpoint(folder)
    assert checkpoint_complete(folder)
    weights = folder / "cross_encoder" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # SIGKILL mid-copy / mid-save
    assert not checkpoint_complete(folder)
    with pytest.raises(VerifierNotReady) as err:
        ClaimVerifier.load(tmp_path / "cache")
    assert "incomplete" in err.value.problem and "make setup" in err.value.fix
    assert weights.stat().st_size == 1000  # left for `make setup` to replace, not trained over at load time


def test_a_killed_training_leaves_no_checkpoint_that_loads(tmp_path):
    # what a SIGKILL during training leaves: the temporary folder, never renamed into place
    folder = checkpoint_folder(tmp_path / "cache")
    tmp = folder.parent / f".{folder.name}-abc123"
    _fake_checkpoint(tmp)
    assert not_ready(tmp_path / "cache") is not None
    with pytest.raises(VerifierNotReady):
        ClaimVerifier.load(tmp_path / "cache")


def test_not_ready_names_make_setup_and_reads_only(tmp_path):
    problem = not_ready(tmp_path / "cache")
    assert isinstance(problem, VerifierNotReady) and "make setup" in problem.fix
    assert not (tmp_path / "cache").exists()


def test_student_page_without_a_verifier_says_getting_ready_and_trains_nothing(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO
    from ui.components import GETTING_READY

    cache = tmp_path / "cache"
    monkeypatch.setenv("STUDYBUDDY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STUDYBUDDY_CACHE", str(cache))
    monkeypatch.delenv("STUDYBUDDY_CONFIG", raising=False)
    at = AppTest.from_file(str(REPO / "ui" / "app.py"), default_timeout=120).run()
    shown = [i.value for i in at.info]
    assert GETTING_READY in shown
    assert not at.chat_input  # no question box: nothing can be answered unchecked
    assert not any(cache.rglob("meta.json")) and not any(cache.rglob("*.safetensors"))


@pytest.mark.integration
def test_a_students_question_without_a_verifier_is_getting_ready_not_a_training_run(tmp_path, sample_home):
    import time

    from engine.core.config import Config, default_cache
    from engine.pipeline import Tutor

    cache = tmp_path / "cache"
    cache.mkdir()
    if (default_cache() / "checkpoints").is_dir():  # the converted generator, so only the verifier is missing
        (cache / "checkpoints").symlink_to(default_cache() / "checkpoints")
    tutor = Tutor(Config(home=sample_home, cache_dir=cache))
    t0 = time.perf_counter()
    with pytest.raises(VerifierNotReady) as err:
        tutor.ask("When did World War II end?")
    assert time.perf_counter() - t0 < 120  # a training run takes minutes; this is retrieval and the generator
    assert "make setup" in err.value.fix
    assert not any(cache.glob("claim_verifier/*/meta.json")) and not any(cache.glob("claim_verifier/.*"))
