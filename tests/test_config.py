from pathlib import Path

import pytest

from engine.config import Config
from engine.errors import StudyBuddyError


def test_defaults_follow_studybuddy_home(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDYBUDDY_HOME", str(tmp_path / "h"))
    config = Config()
    assert config.home == tmp_path / "h"
    assert config.libraries_dir == tmp_path / "h" / "libraries"
    assert config.library == "sample"


def test_toml_overrides_sections(tmp_path):
    path = tmp_path / "sb.toml"
    path.write_text('library = "physics"\n[retrieval]\ntop_k = 7\nmin_relevance = 0.5\n[chunking]\nchunk_size = 128\n')
    config = Config.load(path)
    assert config.library == "physics"
    assert config.retrieval.top_k == 7 and config.retrieval.min_relevance == 0.5
    assert config.chunking.chunk_size == 128
    assert config.retrieval.hybrid is True  # untouched defaults stay


def test_cli_style_overrides_skip_unset_values():
    config = Config().with_overrides(library="history", generator=None)
    assert config.library == "history"
    assert config.generator == Config().generator


@pytest.mark.parametrize(
    "text, fragment",
    [("librery = 'x'\n", "Unknown setting 'librery'"), ("[retrieval]\ntopk = 3\n", "Unknown setting(s) ['topk']"), ("library = \n", "not valid TOML")],
)
def test_bad_config_files_get_clear_messages(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(StudyBuddyError) as err:
        Config.load(path)
    assert fragment in str(err.value)


def test_missing_config_file_is_a_message():
    with pytest.raises(StudyBuddyError, match="does not exist"):
        Config.load(Path("/nonexistent/sb.toml"))
