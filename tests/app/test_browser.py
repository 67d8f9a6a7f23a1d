"""End to end: `streamlit run app.py` on 127.0.0.1, driven by a real headless Chromium.

One browser session walks through the app as a teacher would, on a desktop screen and (emulated) on a
phone. On the way it runs axe-core on five screens, records every network request the browser makes,
and refreshes the screenshots in docs/screenshots/ that the README shows.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from vraagpunt.localserver import free_port, wait_until_up
from vraagpunt.settings import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
AXE_RESULTS = SCREENSHOTS / "axe-results.json"
AXE = REPO_ROOT / "tests" / "app" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
OVERHEAD_QUESTION = "Hoeveel overhead mag ik aanrekenen bij een valorisatieproject?"
REFUSED_QUESTION = "Hoeveel kost een parkeerkaart in Gent?"  # its related passages come from "Analyserapport Leerkr@cht.net"
PASSWORD = "geheim"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DESKTOP = (1280, 1800)
PHONE = (390, 844)  # a common phone screen in CSS pixels
PHONE_IN_BROWSER = (390, 664)  # what is left of it under a mobile browser's address and tool bars




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
        "VRAAGPUNT_ADMIN_PASSWORD": PASSWORD,
    }
    log = (tmp_path_factory.mktemp("browser-log") / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/_stcore/health", proc, need_ok=True)
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
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                 f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(flag)
    options.binary_location = str(CHROMIUM)
    # Chrome's DevTools log of the Network domain: every request the page makes, whatever its origin.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def requested_hosts() -> set[str]:
    """Every host (with port) the browser sent a request to during this module, filled by `record_requests`."""
    return set()


@pytest.fixture(scope="module")
def axe_results() -> dict:
    return {}


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


def open_page(driver, title: str) -> None:
    from selenium.webdriver.common.by import By

    click_text(driver, title, '[data-testid="stSidebarNav"] a, [data-testid="stSidebarNavLink"]')
    wait_for(driver, lambda d: any(h.text == title for h in d.find_elements(By.TAG_NAME, "h1")))
    wait_idle(driver)


def body_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def on_phone(driver, size: tuple[int, int] = PHONE) -> None:
    """Emulate a phone screen (CSS pixels, touch, mobile viewport); `on_desktop` undoes it."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": True})
    time.sleep(1.0)  # Streamlit lays the page out again


def on_desktop(driver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    time.sleep(1.0)


def record_requests(driver, hosts: set[str]) -> None:
    """Add the host of every request in the DevTools log since the last call (the log empties when read)."""
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] not in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            continue
        url = message["params"].get("request", {}).get("url") or message["params"].get("url", "")
        parts = urlsplit(url)
        if parts.scheme not in ("data", "blob", "about", "chrome", "devtools", ""):
            hosts.add(parts.netloc or url)


def run_axe(driver, screen: str, results: dict) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA and best-practice rules on the page as it is now; returns the violations."""
    if not AXE.is_file():
        pytest.fail("axe-core ontbreekt: voer `bash scripts/ensure-axe.sh` uit (of `make test`).")
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(120)
    found = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]})
          .then(r => done(r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => ({html: n.html.slice(0, 200),
                                        why: n.any.concat(n.all, n.none).map(c => c.message).join(" | ")}))}))))
          .catch(e => done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]));
        """
    )
    results[screen] = found
    return found


def serious(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['html'] for n in v['nodes']][:3]} {v['nodes'][0]['why'] if v['nodes'] else ''}"
            for v in violations if v["impact"] in ("serious", "critical")]


# -- the journey -----------------------------------------------------------------------------------
def test_chat_on_desktop_and_phone(server, browser, feedback_db, requested_hosts, axe_results):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]'))
    wait_idle(browser)
    assert "Vraagpunt" in browser.title
    assert browser.execute_script("return document.documentElement.lang") == "nl"

    # The skip path: the first Tab reaches a link that puts the cursor in the question box (was 14 Tabs).
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.get_attribute("id") == "vp-skip" and skip.text == "Naar het vraagveld"
    skip.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("data-testid") == "stChatInputTextArea"
    violations = run_axe(browser, "chat-start", axe_results)  # the first screen, besides the five asked for
    assert not serious(violations), serious(violations)

    # -- an answer with its sources
    answer = ask(browser, OVERHEAD_QUESTION, 2)
    assert "10%" in answer.text
    assert "Download bron (p." in answer.text and "valorisatieproducten" in answer.text
    answer.find_element(By.CSS_SELECTOR, '[data-testid="stExpander"] summary').click()  # show the marked passage
    time.sleep(0.7)
    mark = answer.find_element(By.CSS_SELECTOR, "mark.vp-cited")
    assert "10%" in mark.text
    assert "underline" in mark.value_of_css_property("text-decoration-line")  # not colour alone
    violations = run_axe(browser, "chat-answer", axe_results)
    assert not serious(violations), serious(violations)
    shoot(browser, "answer.png")
    on_phone(browser)
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", messages(browser)[-2])
    time.sleep(0.5)
    shoot(browser, "answer-mobile.png")
    on_desktop(browser)

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

    # -- the user's words, as typed (Streamlit's Markdown made "--" a dash)
    typed = "'; DROP TABLE feedback; --"
    ask(browser, typed, 6)
    assert messages(browser)[-2].find_element(By.CSS_SELECTOR, '[data-testid="stText"]').text == typed

    # -- a refusal: passages that share the question's words, titles that are text, full download labels
    click_text(browser, "Nieuw gesprek")
    wait_idle(browser)
    refusal = ask(browser, REFUSED_QUESTION, 2)
    assert "niet in de documenten" in refusal.text
    assert "Leerkr@cht.net" in refusal.text  # the title is there, as text ...
    links = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stMain"] a[href]:not([href^="#"])')
    assert not links, [a.get_attribute("href") for a in links]  # ... and nothing from a document is a link
    labels = refusal.find_elements(By.CSS_SELECTOR, '[data-testid="stDownloadButton"] button')
    assert labels
    for button in labels:
        assert "Download bron" in button.text and "…" not in button.text
        label = button.find_element(By.CSS_SELECTOR, '[data-testid="stMarkdownContainer"]')
        assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth + 1", label), button.text
    violations = run_axe(browser, "refusal", axe_results)
    assert not serious(violations), serious(violations)
    browser.execute_script("window.scrollTo(0, 0)")
    shoot(browser, "refusal.png")
    on_phone(browser)
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", messages(browser)[-2])
    time.sleep(0.5)
    shoot(browser, "refusal-mobile.png")
    on_desktop(browser)

    click_text(browser, "Nieuw gesprek")
    wait_idle(browser)
    ask(browser, OVERHEAD_QUESTION, 2)
    new_topic = ask(browser, "Wat is een begeleidingsproject?", 4)
    assert "Gelezen als:" not in new_topic.text  # a question on its own is not read as a follow-up
    assert "begeleidingsproject" in new_topic.text.lower()
    strong = new_topic.find_elements(By.CSS_SELECTOR, ".vp-answer strong")
    assert strong and strong[0].text in new_topic.text  # the direct answer is emphasised
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", messages(browser)[-2])
    time.sleep(0.5)
    shoot(browser, "new-topic.png")

    # -- the first screen on a phone: the title starts below the header, not under it
    for size in (PHONE, PHONE_IN_BROWSER):
        on_phone(browser, size)
        browser.get(server)
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]'))
        wait_idle(browser)
        header_bottom, title_top = browser.execute_script(
            "return [document.querySelector('[data-testid=\"stHeader\"]').getBoundingClientRect().bottom,"
            " document.querySelector('h1').getBoundingClientRect().top]"
        )
        assert title_top >= header_bottom, (size, title_top, header_bottom)
        if size == PHONE:
            shoot(browser, "start-mobile.png")
    on_desktop(browser)
    record_requests(browser, requested_hosts)


def test_documents_and_evaluation(server, browser, corpus_settings, requested_hosts, axe_results):
    from selenium.webdriver.common.by import By

    browser.get(server)
    wait_idle(browser)
    open_page(browser, "Documenten")
    grid = browser.find_element(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
    assert grid.is_displayed()
    # The table fits the page: no column is reached by scrolling sideways (was: everything after Bestand).
    scroller = grid.find_element(By.CSS_SELECTOR, ".dvn-scroller")
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth + 1", scroller)
    violations = run_axe(browser, "documents-logged-out", axe_results)
    assert not serious(violations), serious(violations)
    shoot(browser, "documents.png")

    on_phone(browser)
    assert not grid.is_displayed()  # on a phone: one block per document instead of a five-column table
    documents = browser.find_elements(By.CSS_SELECTOR, ".vp-doc")
    assert len(documents) == 5
    for document in documents:
        assert document.is_displayed()
        assert browser.execute_script("return arguments[0].getBoundingClientRect().right", document) <= PHONE[0]
        assert "passages" in document.text and "gewijzigd" in document.text
    shoot(browser, "documents-mobile.png")
    on_desktop(browser)

    browser.find_element(By.CSS_SELECTOR, 'input[type="password"]').send_keys(PASSWORD)
    click_text(browser, "Aanmelden")
    wait_idle(browser)
    assert "Document toevoegen" in body_text(browser)
    violations = run_axe(browser, "documents-logged-in", axe_results)
    assert not serious(violations), serious(violations)

    # -- Evaluatie: says how long a run takes, can be cancelled, and shows the report of a finished run
    open_page(browser, "Evaluatie")
    browser.find_element(By.CSS_SELECTOR, '[data-testid="stSelectbox"] input[role="combobox"]').click()
    option = wait_for(browser, lambda d: next((o for o in d.find_elements(By.CSS_SELECTOR, '[role="option"]') if "holdout" in o.text), None))
    option.click()
    wait_idle(browser)
    assert "Een run duurt ongeveer" in body_text(browser) and "met baselines" in body_text(browser)
    click_text(browser, "Met baselines (BM25, dense, LangChain)", '[data-testid="stCheckbox"] label')
    wait_idle(browser)
    assert "48 vragen)" in body_text(browser)  # without baselines now

    from evals.dataset import HOLDOUT_DATASET
    from evals.history import load_history

    runs_before = len(load_history(corpus_settings, HOLDOUT_DATASET))
    click_text(browser, "Evaluatie uitvoeren")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stProgress"]'), timeout=30)
    click_text(browser, "Annuleren")
    wait_for(browser, lambda d: "Evaluatie geannuleerd" in body_text(d), timeout=30, message="niet geannuleerd")
    wait_idle(browser)
    assert len(load_history(corpus_settings, HOLDOUT_DATASET)) == runs_before  # nothing saved

    click_text(browser, "Evaluatie uitvoeren")
    wait_for(browser, lambda d: "Evaluatie klaar" in body_text(d), timeout=600, message="evaluatie niet klaar")
    wait_idle(browser)
    body = body_text(browser)
    assert "Resultaat van" in body and "48 vragen" in body and "Feedback van gebruikers" in body
    assert len(load_history(corpus_settings, HOLDOUT_DATASET)) == runs_before + 1
    if "Per soort vraag" in body:  # charts draw after the script run ends
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'))
        time.sleep(2)
    violations = run_axe(browser, "evaluation-report", axe_results)
    assert not serious(violations), serious(violations)
    shoot(browser, "evaluation.png")
    record_requests(browser, requested_hosts)


def test_no_request_leaves_the_machine(server, browser, requested_hosts, axe_results):
    """Every request of this browser session, the pages above and a fresh load here, went to the app."""
    from selenium.webdriver.common.by import By

    browser.get(server)
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stChatInputTextArea"]'))
    wait_idle(browser)
    time.sleep(2)  # the favicon and late requests
    record_requests(browser, requested_hosts)
    own = urlsplit(server).netloc
    assert own in requested_hosts  # the log works: it saw the app itself
    assert requested_hosts == {own}, f"verzoeken naar andere hosts: {sorted(requested_hosts - {own})}"

    if axe_results:  # what axe found below "serious", for docs/toegankelijkheid.md
        summary = {
            "hosts": sorted(requested_hosts),
            "axe": {
                screen: [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": len(v["nodes"]),
                          "example": v["nodes"][0]["html"] if v["nodes"] else ""} for v in found]
                for screen, found in axe_results.items()
            },
        }
        AXE_RESULTS.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
