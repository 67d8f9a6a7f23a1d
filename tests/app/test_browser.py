"""End to end: `streamlit run app.py` on 127.0.0.1, driven by a real headless Chromium.

Also refreshes the screenshots in docs/screenshots/ that the README shows.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from vraagpunt.settings import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
OVERHEAD_QUESTION = "Hoeveel overhead mag ik aanrekenen bij een valorisatieproject?"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("streamlit did not become healthy")


@pytest.fixture(scope="module")
def feedback_db(tmp_path_factory):
    return tmp_path_factory.mktemp("browser") / "feedback.sqlite3"


@pytest.fixture(scope="module")
def server(corpus_settings, feedback_db, tmp_path_factory):
    port = free_port()
    env = {
        **os.environ,
        "VRAAGPUNT_DATA_DIR": str(corpus_settings.data_dir),
        "VRAAGPUNT_CORPUS_DIR": str(corpus_settings.corpus_dir),
        "VRAAGPUNT_FEEDBACK_DB": str(feedback_db),
        "VRAAGPUNT_ADMIN_PASSWORD": "",
    }
    log = (tmp_path_factory.mktemp("browser-log") / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium ontbreekt: voer `bash scripts/ensure-chromium.sh` uit.")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1280,1800"):
        options.add_argument(flag)
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


# -- page helpers ----------------------------------------------------------------------------------
def wait_for(driver, condition, timeout: float = 120, message: str = ""):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # Streamlit re-renders while a page changes: an element found a moment ago can be gone when its
    # text is read. That is "not yet", not a failure (seen once on a loaded machine).
    wait = WebDriverWait(driver, timeout, poll_frequency=0.3, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(condition, message)


def wait_idle(driver, timeout: float = 120) -> None:
    """Until the script run is over (stApp's script state is 'notRunning') and the page settled."""
    from selenium.webdriver.common.by import By

    def idle(d) -> bool:
        apps = d.find_elements(By.CSS_SELECTOR, '[data-testid="stApp"]')
        return bool(apps) and apps[0].get_attribute("data-test-script-state") == "notRunning"

    time.sleep(0.5)
    wait_for(driver, idle, timeout, "de app bleef bezig")
    time.sleep(0.7)


def messages(driver):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, '[data-testid="stChatMessage"]')


def ask(driver, question: str, expected_messages: int) -> object:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]'))
    box.click()
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    wait_for(driver, lambda d: len(messages(d)) >= expected_messages, message="geen antwoord verschenen")
    wait_idle(driver)
    return messages(driver)[-1]


def shoot(driver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / name))


def click_text(driver, text: str, selector: str = "button") -> None:
    from selenium.webdriver.common.by import By

    element = wait_for(driver, lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, selector) if e.text.strip().endswith(text)), None))
    element.click()


# -- the journey -----------------------------------------------------------------------------------
def test_chat_feedback_followup_refusal_and_evaluation(server, browser, feedback_db):
    from selenium.webdriver.common.by import By

    browser.get(server)
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]'))
    wait_idle(browser)
    assert "Vraagpunt" in browser.title

    answer = ask(browser, OVERHEAD_QUESTION, 2)
    assert "10%" in answer.text
    assert "Download bron (p." in answer.text and "valorisatieproducten" in answer.text
    answer.find_element(By.CSS_SELECTOR, '[data-testid="stExpander"] summary').click()  # show the highlighted passage
    time.sleep(0.7)
    assert "10%" in answer.find_element(By.CSS_SELECTOR, '[data-testid="stExpander"]').text
    shoot(browser, "answer.png")

    thumbs = wait_for(browser, lambda d: messages(d)[-1].find_elements(By.CSS_SELECTOR, '[data-testid="stFeedback"] button, [data-testid="stButtonGroup"] button'))
    thumbs[0].click()
    wait_idle(browser)
    with sqlite3.connect(feedback_db) as db:
        rows = db.execute("SELECT question, thumbs FROM feedback").fetchall()
    assert rows == [(OVERHEAD_QUESTION, 1)]

    followup = ask(browser, "En hoeveel mag ik in totaal aanvragen?", 4)
    assert "Gelezen als:" in followup.text and "30.000" in followup.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", messages(browser)[-2])
    time.sleep(0.5)
    shoot(browser, "followup.png")

    click_text(browser, "Nieuw gesprek")
    wait_idle(browser)
    refusal = ask(browser, "Hoeveel kost een parkeerkaart in Gent?", 2)
    assert "niet in de documenten" in refusal.text
    browser.execute_script("window.scrollTo(0, 0)")
    shoot(browser, "refusal.png")

    click_text(browser, "Nieuw gesprek")
    wait_idle(browser)
    ask(browser, OVERHEAD_QUESTION, 2)
    new_topic = ask(browser, "Wat is een begeleidingsproject?", 4)
    assert "Gelezen als:" not in new_topic.text  # a question on its own is not read as a follow-up
    assert "begeleidingsproject" in new_topic.text.lower()
    strong = new_topic.find_elements(By.CSS_SELECTOR, '[data-testid="stMarkdownContainer"] strong')
    assert strong and strong[0].text in new_topic.text  # the direct answer is emphasised
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", messages(browser)[-2])
    time.sleep(0.5)
    shoot(browser, "new-topic.png")

    click_text(browser, "Evaluatie", '[data-testid="stSidebarNav"] a, [data-testid="stSidebarNavLink"]')
    wait_for(browser, lambda d: any(h.text == "Evaluatie" for h in d.find_elements(By.TAG_NAME, "h1")))
    wait_idle(browser)
    already = "Resultaat" in browser.find_element(By.TAG_NAME, "body").text  # a saved run is shown as is
    if importlib.util.find_spec("evals.runner") is not None and not already:
        click_text(browser, "Evaluatie uitvoeren")
        wait_for(browser, lambda d: "Resultaat" in d.find_element(By.TAG_NAME, "body").text, timeout=900)
        wait_idle(browser, timeout=900)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Feedback van gebruikers" in body
    if "Per soort vraag" in body:  # charts draw after the script run ends
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'))
        time.sleep(2)
    shoot(browser, "evaluation.png")
