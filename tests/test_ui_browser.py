"""End to end in a real browser: `streamlit run` on a free 127.0.0.1 port, driven through Debian's headless
Chromium with Selenium. Screenshots go to tests/artifacts/ (git-ignored).

The first answer loads the models (up to a few minutes on a small machine). With STUDYBUDDY_UI_TEST_HOOKS=1
the server accepts a fixed draft as ?draft=..., so the grounded and corrected screenshots are deterministic.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from engine.core.config import Config
from tests.conftest import REPO
from ui.components import BADGES

pytestmark = pytest.mark.integration

ARTIFACTS = REPO / "tests" / "artifacts"
PASSCODE = "owl-42"
FIRST_ANSWER_S = 240
SKIP_REASON = "Debian chromium/chromium-driver not installed (make setup installs them)"

if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip(SKIP_REASON, allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (make setup installs it)")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} within {seconds}s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free port with the sample library ready; stopped by its PID afterwards."""
    from knowledge_base.ingest import ensure_sample_library

    home = tmp_path_factory.mktemp("browser-home")
    ensure_sample_library(Config(home=home))
    port = free_port()
    env = {**os.environ, "STUDYBUDDY_HOME": str(home), "STUDYBUDDY_STAFF_PASSCODE": PASSCODE, "STUDYBUDDY_UI_TEST_HOOKS": "1"}
    env.pop("STUDYBUDDY_CONFIG", None)
    log = open(home / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "ui" / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for a driver online
    profile = tempfile.mkdtemp(prefix="sb-chromium-")
    options = Options()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1100,1700"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def ask(driver, url: str, question: str, draft: str | None = None, timeout: float = FIRST_ANSWER_S) -> str:
    """Open the student page, ask, wait until a verdict badge is shown; return the badge label seen."""
    driver.get(url + ("/?" + urllib.parse.urlencode({"draft": draft}) if draft else "/"))
    box = WebDriverWait(driver, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']"))
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    labels = [label for label, *_ in BADGES.values()]

    def badge(d):
        body = d.find_element(By.TAG_NAME, "body").text
        return next((label for label in labels if label in body), False) if "All checked!" in body else False

    try:
        found = WebDriverWait(driver, timeout, poll_frequency=1).until(badge)
        time.sleep(1)  # the expanders and highlights render in the same pass; give the browser a moment to paint
        return found
    except TimeoutException:
        save(driver, "browser_timeout.png")
        raise


def save(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def visible_text(driver, text: str) -> bool:
    return any(e.is_displayed() for e in driver.find_elements(By.XPATH, f"//*[contains(text(), {text!r})]"))


def test_what_causes_rain_in_a_real_browser(server, browser):
    label = ask(browser, server, "What causes rain?")
    assert label in {label for label, *_ in BADGES.values()}
    assert visible_text(browser, label)
    summaries = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stExpander'] summary")
    assert any("StudyBuddy Sample Book" in s.text and "Water Cycle" in s.text and s.is_displayed() for s in summaries)
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text
    assert save(browser, "browser_what_causes_rain.png").stat().st_size > 10_000


def test_screenshots_of_grounded_corrected_and_review(server, browser):
    grounded = ask(browser, server, "What causes rain?",
                   "Rain happens when tiny water droplets in a cloud join together and become too heavy to float.", 120)
    assert grounded == BADGES["grounded"][0]
    save(browser, "student_grounded.png")
    corrected = ask(browser, server, "Where does the Amazon River flow?",
                    "The Amazon flows through Brazil and empties into the Pacific Ocean.", 120)
    assert corrected == BADGES["corrected"][0]
    assert visible_text(browser, "Atlantic")
    save(browser, "student_corrected.png")

    browser.get(server + "/?staff=1")
    field = WebDriverWait(browser, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "input[type='password']"))
    field.send_keys(PASSCODE)
    browser.find_element(By.XPATH, "//button[.//p[contains(text(), 'Open staff pages')]]").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.XPATH, "//*[contains(text(), 'Staff pages')]"))
    browser.find_element(By.XPATH, "//label[.//p[text()='Review']]").click()
    WebDriverWait(browser, 60).until(lambda d: "waiting" in (body := d.find_element(By.TAG_NAME, "body").text)
                                     and "Book name" not in body)
    time.sleep(2)  # let the page settle (Streamlit fades out the previous page's elements)
    assert visible_text(browser, "Where does the Amazon River flow?")
    save(browser, "staff_review.png")
