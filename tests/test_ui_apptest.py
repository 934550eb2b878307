"""The Streamlit app driven headless with `streamlit.testing.v1.AppTest` and the real engine (no mocks).

Tests marked integration load the packaged models (the first one pays ~20 s; the Tutor is cached by
st.cache_resource for the rest of the module) and build the sample library once in a temporary home.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.conversation_log import ConversationLog
from engine.core.config import Config
from engine.core.vocabulary import Answer, AnswerVerdict, Check, Claim, ClaimVerdict, Evidence, Passage, Support, Verdict
from tests.conftest import REPO
from ui.components import BADGES

APP = str(REPO / "ui" / "app.py")
PASSCODE = "owl-42"
TIMEOUT = 300


@pytest.fixture(scope="module")
def sample_ui_home(tmp_path_factory) -> Path:
    from knowledge_base.ingest import ensure_sample_library

    home = tmp_path_factory.mktemp("ui-home")
    ensure_sample_library(Config(home=home))
    return home


@pytest.fixture
def ui_home(request, monkeypatch, tmp_path) -> Path:
    """STUDYBUDDY_HOME for the app: the module's sample home for integration tests, else an empty one."""
    uses_models = request.node.get_closest_marker("integration") is not None
    home = request.getfixturevalue("sample_ui_home") if uses_models else tmp_path / "home"
    monkeypatch.setenv("STUDYBUDDY_HOME", str(home))
    monkeypatch.delenv("STUDYBUDDY_CONFIG", raising=False)
    monkeypatch.setenv("STUDYBUDDY_STAFF_PASSCODE", PASSCODE)
    return home


def page_text(at: AppTest) -> str:
    """Everything a reader sees as text: markdown, captions, alerts, expander titles, status labels."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in (at.info, at.warning, at.error, at.success) for e in kind]
    parts += [e.label for e in at.expander] + [s.label for s in at.status]
    return "\n".join(str(p) for p in parts)


def student(draft: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if draft is not None:
        at.session_state["draft_answer_for_test"] = draft
    return at.run()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def staff_login(at: AppTest, passcode: str = PASSCODE) -> AppTest:
    at.text_input(key="staff_passcode").input(passcode)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def staff(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["staff"] = "1"
    staff_login(at.run())
    if page:
        at.sidebar.radio(key="staff_page").set_value(page).run()
    return at


# --- the student page -------------------------------------------------------------------------------------------
@pytest.mark.integration
def test_grounded_answer_shows_badge_highlights_and_citation(ui_home):
    at = ask(student("Rain happens when tiny water droplets in a cloud join together and become too heavy to float."),
             "What causes rain?")
    text = page_text(at)
    assert BADGES["grounded"][0] in text
    assert ":green-background[" in text and "too heavy to float" in text
    assert any("Chapter 1: The Water Cycle and Rain" in e.label and "StudyBuddy Sample Book" in e.label for e in at.expander)
    assert at.status[0].label == "All checked!"
    assert len(at.session_state["history"]) == 1


@pytest.mark.integration
def test_corrected_answer_strikes_the_wrong_part_and_shows_the_fix(ui_home):
    at = ask(student("The Amazon flows through Brazil and empties into the Pacific Ocean."), "Where does the Amazon River flow?")
    text = page_text(at)
    assert BADGES["corrected"][0] in text
    assert "~~The Amazon empties into the Pacific Ocean.~~" in text
    assert "→ :blue-background[" in text and "Atlantic" in text
    assert any("River" in e.label for e in at.expander)


@pytest.mark.integration
def test_real_question_gets_a_checked_answer_and_is_logged(ui_home):
    at = ask(student(), "What causes rain?")
    text = page_text(at)
    assert any(label in text for label, *_ in BADGES.values())
    assert any("Water Cycle" in e.label for e in at.expander)  # cited, or offered as pages that might help
    assert "Traceback" not in text
    assert ConversationLog(ui_home / "logs" / "conversations.sqlite3").recent(50)


@pytest.mark.integration
def test_history_stays_in_the_session(ui_home):
    at = ask(student("7 × 8 is 54."), "What is 7 × 8?")
    ask(at, "What is 7 × 8?")
    assert len(at.session_state["history"]) == 2
    assert sum(1 for m in at.chat_message if m.name == "user") == 2


def test_empty_and_huge_messages_get_a_kind_reply(ui_home):
    at = student()
    ask(at, "   ")
    assert "Type a question first" in page_text(at)
    ask(at, "rain " * 4000)
    assert "very long message" in page_text(at)
    assert at.session_state["history"] == []


def test_paused_student_page_rests(ui_home):
    (ui_home).mkdir(parents=True, exist_ok=True)
    (ui_home / "ui_settings.toml").write_text("paused = true\n")
    at = student()
    assert "StudyBuddy is resting" in page_text(at) and not at.chat_input


def test_deleted_library_is_a_friendly_message(ui_home, monkeypatch):
    monkeypatch.setenv("STUDYBUDDY_CONFIG", str(ui_home / "custom.toml"))
    ui_home.mkdir(parents=True, exist_ok=True)
    (ui_home / "custom.toml").write_text('library = "gone"\n')
    at = ask(student(), "What causes rain?")
    text = page_text(at)
    assert "Please tell your teacher" in text and "no library called 'gone'" in text


def test_student_page_shows_no_staff_controls(ui_home):
    at = student()
    assert not at.text_input and not at.sidebar.radio and "staff" not in page_text(at).lower()


# --- the staff pages --------------------------------------------------------------------------------------------
def test_staff_login_refuses_a_wrong_passcode_then_accepts_the_right_one(ui_home):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["staff"] = "1"
    staff_login(at.run(), "guess")
    assert "passcode is not right" in page_text(at) and not at.sidebar.radio
    staff_login(at)
    assert at.sidebar.radio(key="staff_page").options == ["Library", "Evaluation", "Review", "Settings"]


def test_staff_pages_stay_locked_without_a_passcode(ui_home, monkeypatch):
    monkeypatch.delenv("STUDYBUDDY_STAFF_PASSCODE")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["staff"] = "1"
    at.run()
    assert "STUDYBUDDY_STAFF_PASSCODE" in page_text(at) and not at.text_input


@pytest.mark.integration
def test_uploading_a_small_file_ingests_it_and_a_corrupt_one_is_named(ui_home):
    at = staff("Library")
    at.text_input(key="ingest_library").input("science")
    at.text_input(key="ingest_book").input("bees")
    at.file_uploader(key="ingest_files").set_value([
        ("bees.md", b"# Chapter 1: Bees\n\nBees make honey from the nectar of flowers. A bee has six legs.\n", "text/markdown"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf"),
    ])
    at.button(key="ingest_go").click().run()
    assert not at.exception, at.exception
    text = page_text(at)
    assert "Library 'science': 1 added" in text
    assert "Skipped broken.pdf" in text
    assert (ui_home / "libraries" / "science" / "CURRENT").is_file()
    at.run()
    assert any(row == "bees" for row in at.dataframe[0].value["book"])


def test_marking_a_review_item_stores_the_mark(ui_home):
    log = ConversationLog(ui_home / "logs" / "conversations.sqlite3")
    conversation = log.log_answer("session-x", "sample", _corrected_answer())
    at = staff("Review")
    assert "What is 7 × 8?" in page_text(at)
    assert "Which check decided each claim" in page_text(at)
    assert "**contradicted**, decided by the arithmetic — Computed, the sum is wrong: 7 × 8 is 56." in page_text(at)
    at.radio(key=f"mark_{conversation}").set_value("wrong")
    at.text_input(key=f"note_{conversation}").input("the table says 56")
    _submit_form(at, "Save mark")
    assert not at.exception, at.exception
    assert [(m["id"], m["mark"], m["note"]) for m in log.marks()] == [(conversation, "wrong", "the table says 56")]
    assert log.review_queue() == []
    assert "Nothing to review right now" in page_text(at)


def test_settings_pause_switch_turns_the_student_page_off(ui_home):
    at = staff("Settings")
    at.toggle(key="pause_switch").set_value(True).run()
    assert "paused for students" in page_text(at)
    assert "StudyBuddy is resting" in page_text(student())
    at.toggle(key="pause_switch").set_value(False).run()
    assert "StudyBuddy is resting" not in page_text(student())


def test_settings_are_saved_to_the_toml_config(ui_home):
    at = staff("Settings")
    at.number_input[0].set_value(3)
    at.slider[0].set_value(0.6)
    _submit_form(at, "Save settings")
    config = Config.load()
    assert config.verification.samples == 3 and config.verification.support_threshold == pytest.approx(0.6)
    assert (ui_home / "studybuddy.toml").is_file()


def test_evaluation_page_lists_earlier_runs(ui_home):
    run = ui_home / "runs" / "20260101-120000"
    run.mkdir(parents=True)
    (run / "report.json").write_text('{"rows": []}')
    (run / "report.md").write_text("# Evaluation report\n\n| mode | accuracy |\n|---|---|\n| always | 0.9 |\n")
    at = staff("Evaluation")
    assert not at.exception, at.exception
    assert "Evaluation report" in page_text(at)


# --- helpers ----------------------------------------------------------------------------------------------------
def _submit_form(at: AppTest, label: str) -> None:
    [button] = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception, at.exception


def _corrected_answer() -> Answer:
    passage = Passage("7 × 8 is 56.", "StudyBuddy Sample Book", "Chapter 8: Multiplication", "book/ch08.md", chunk_id=1)
    claim = ClaimVerdict(Claim("7 × 8 is 54.", (0, 12)), Support.CONTRADICTED, 0.1, Evidence(passage, 0.1, 0.8, 0.1), "7 × 8 is 56.",
                         decided_by=Check.ARITHMETIC, why="Computed, the sum is wrong: 7 × 8 is 56.")
    return Answer("What is 7 × 8?", "7 × 8 is 56.", [passage], "test", {},
                  AnswerVerdict(Verdict.CORRECTED, 0.5, [claim], "7 × 8 is 56.", "1 corrected"))


def test_kb_choices_with_an_empty_question_box(tmp_path):
    from ui.staff_evaluation import kb_choices

    choices = kb_choices(Config(home=tmp_path), Path(""))
    assert choices == ["sample"]
    (tmp_path / "x_questions.jsonl").write_text("{}\n")
    (tmp_path / "x_kb.jsonl").write_text("{}\n")
    assert kb_choices(Config(home=tmp_path), tmp_path / "x_questions.jsonl")[0] == str(tmp_path / "x_kb.jsonl")
