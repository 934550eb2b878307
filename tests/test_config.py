from pathlib import Path

import pytest

from engine.core.config import Config
from engine.core.errors import StudyBuddyError


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


@pytest.mark.parametrize(
    "text, fragment, allowed",
    [
        ('[verification]\nmode = "cascde"\n', "[verification] mode = 'cascde'", 'Allowed: "always", "cascade".'),
        ('[retrieval]\nindex_type = "hsnw"\n', "[retrieval] index_type = 'hsnw'", 'Allowed: "flat", "hnsw", "ivf".'),
        ('embedder_precision = "bf61"\n', "embedder_precision = 'bf61'", 'Allowed: "auto", "fp32", "bf16".'),
        ('[generator]\nbackend = "vllm"\n', "[generator] backend = 'vllm'", 'Allowed: "transformers", "openai".'),
        ('[generation]\nprecision = "fp16"\n', "[generation] precision = 'fp16'", 'Allowed: "fp32", "bf16", "auto".'),
    ],
)
def test_a_typo_in_a_choice_is_refused_with_the_allowed_values(tmp_path, text, fragment, allowed):
    path = tmp_path / "typo.toml"
    path.write_text(text)
    with pytest.raises(StudyBuddyError) as err:
        Config.load(path)
    assert fragment in str(err.value) and "not one of the allowed values" in str(err.value)
    assert err.value.fix == allowed


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('[retrieval]\ntop_k = "four"\n', "[retrieval] top_k = 'four' in"),
        ("[retrieval]\nhybrid = 1\n", "[retrieval] hybrid = 1 in"),
        ('[verification]\nsupport_threshold = "high"\n', "[verification] support_threshold = 'high' in"),
        ("[safety]\napproved_link_hosts = \"openstax.org\"\n", "[safety] approved_link_hosts = 'openstax.org' in"),
        ("library = 3\n", "library = 3 in"),
    ],
)
def test_a_setting_of_the_wrong_type_is_refused(tmp_path, text, fragment):
    path = tmp_path / "types.toml"
    path.write_text(text)
    with pytest.raises(StudyBuddyError) as err:
        Config.load(path)
    assert fragment in str(err.value)


def test_well_typed_settings_load_as_their_types(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text('[verification]\nmode = "cascade"\nsupport_threshold = 1\n[safety]\napproved_link_hosts = ["openstax.org"]\n'
                    '[generator]\ncheckpoint = 200\ntimeout_s = 5\n')
    config = Config.load(path)
    assert config.verification.mode == "cascade"
    assert config.verification.support_threshold == 1.0 and isinstance(config.verification.support_threshold, float)
    assert config.safety.approved_link_hosts == ("openstax.org",)
    assert config.generator_options.checkpoint == "200" and config.generator_options.timeout_s == 5.0
