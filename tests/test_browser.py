"""The pages in a real browser (Debian's chromium, headless, through selenium and chromedriver), served by
`convier serve`'s server on a free port: answer, change of answer, unsubscribe and undo, by clicks;
axe-core checks each page (no serious or critical violation). `make test` installs chromium and axe-core.

With UPDATE_SCREENSHOTS=1, the screenshots of the pages are written to docs/page-*.png (the README shows them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from convier.local import linkserver
from convier.services import rsvp
from convier.store import subscribers
from webkit import ROOT, links_of, messages, sent_campaign

AXE = ROOT / ".cache" / "node_modules" / "axe-core" / "axe.min.js"
DOCS = ROOT / "docs"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--lang=fr-FR", "--hide-scrollbars"]


@pytest.fixture
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, ("chromium et chromedriver manquent : make chromium "
                                      "(apt-get install chromium chromium-driver)")
    assert AXE.is_file(), "axe-core manque : make chromium (npm install axe-core dans .cache/)"
    profile = tempfile.mkdtemp(prefix="convier-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_window_size(1000, 900)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def served(settings):
    """`convier serve`'s server, in this process, on a free port."""
    server = linkserver.make_server(settings.settings, settings.clients, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def accessibility(driver) -> list[dict]:
    """axe-core's serious and critical violations on the current page (WCAG 2.1 A/AA and best practices)."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', "
        "values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', nodes: String(e)}]));")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def check_page(driver, name: str) -> None:
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert driver.find_elements(By.TAG_NAME, "h1"), "une page sans titre de niveau 1"
    assert "Traceback" not in driver.page_source
    assert accessibility(driver) == [], name
    if os.environ.get("UPDATE_SCREENSHOTS"):
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1000, max(600, height + 20))
        driver.save_screenshot(str(DOCS / f"page-{name}.png"))
        driver.set_window_size(1000, 900)


def replaced(driver, old) -> None:
    """Waits until `old` (the previous page's root) is gone and the next page has loaded.

    Chromium reports a node of a page being replaced either as stale or as "does not belong to the
    document": both mean the old page is gone (selenium's `staleness_of` knows only the first).
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, 15).until(gone)
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def submit(driver) -> None:
    """Clicks the page's button and waits for the next page."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    replaced(driver, old)


def test_answer_change_and_unsubscribe_by_clicks(browser, served, cli, settings, tmp_path):
    s, c = settings
    rows = [("camille.durand@exemple.gouv.fr", "Camille", "Durand"), ("lou.bernard@exemple.gouv.fr", "Lou", "Bernard")]
    campaign_id = sent_campaign(cli, tmp_path, rows, campaign_yaml="capacity: 1\n")
    mails = messages(settings, campaign_id)
    camille = next(sid for sid, m in mails.items() if "camille" in str(m["To"]))
    lou = next(sid for sid in mails if sid != camille)
    links = links_of(mails[camille])

    # the link of "Je participe": the form with that answer preselected; nothing recorded yet
    browser.get(f"{served}{links['rsvp']}?answer=yes")
    assert "Bonjour Camille" in browser.page_source and "24 janvier 2023" in browser.page_source
    assert browser.find_element(By.ID, "reponse-yes").is_selected()
    check_page(browser, "reponse")
    assert rsvp.get_rsvp(c.dynamodb, s.table, campaign_id, camille).answer == ""

    submit(browser)
    assert "Votre réponse est enregistrée" in browser.find_element(By.TAG_NAME, "h1").text
    ics = browser.find_element(By.PARTIAL_LINK_TEXT, "Fichier agenda")
    assert ics.get_attribute("href") == f"{served}{links['ics']}"
    assert browser.find_element(By.PARTIAL_LINK_TEXT, "Google Agenda").get_attribute("href").startswith(
        "https://calendar.google.com/")
    check_page(browser, "confirmation")
    assert rsvp.get_rsvp(c.dynamodb, s.table, campaign_id, camille).place == rsvp.CONFIRMED

    # Lou says yes too: the only place is taken, the page says so
    browser.get(f"{served}{links_of(mails[lou])['rsvp']}?answer=yes")
    submit(browser)
    assert "liste d’attente" in browser.find_element(By.TAG_NAME, "h1").text
    assert "position 1" in browser.page_source
    check_page(browser, "liste-attente")

    # Camille changes her answer on the same page: Lou gets the place
    browser.get(f"{served}{links['rsvp']}")
    assert "Votre réponse actuelle" in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "label[for=reponse-no]").click()
    submit(browser)
    assert "Vous ne participerez pas" in browser.page_source
    assert rsvp.get_rsvp(c.dynamodb, s.table, campaign_id, camille).answer == "no"
    assert rsvp.get_rsvp(c.dynamodb, s.table, campaign_id, lou).place == rsvp.CONFIRMED

    # unsubscribe: one button, then the way back
    browser.get(f"{served}{links['unsubscribe']}")
    assert len(browser.find_elements(By.CSS_SELECTOR, "main button")) == 1
    check_page(browser, "desinscription")
    assert subscribers.get_subscriber(c.dynamodb, s.table, "invites", camille).status == "subscribed"
    submit(browser)
    assert "désinscrit" in browser.find_element(By.TAG_NAME, "h1").text
    check_page(browser, "desinscrit")
    assert subscribers.get_subscriber(c.dynamodb, s.table, "invites", camille).status == "unsubscribed"
    submit(browser)  # "Me réinscrire"
    assert "de nouveau inscrit" in browser.find_element(By.TAG_NAME, "h1").text
    assert subscribers.get_subscriber(c.dynamodb, s.table, "invites", camille).status == "subscribed"

    # a tampered link: the French 404 page, accessible too
    browser.get(f"{served}{links['rsvp'][:-3]}xyz")
    assert "Ce lien n’est pas valable" in browser.find_element(By.TAG_NAME, "h1").text
    check_page(browser, "lien-invalide")


def test_the_form_works_with_the_keyboard_alone(browser, served, cli, settings, tmp_path):
    from selenium.webdriver.common.keys import Keys

    campaign_id = sent_campaign(cli, tmp_path, [("a@exemple.gouv.fr", "Ana", "Roux")])
    (sid, message), = messages(settings, campaign_id).items()
    browser.get(f"{served}{links_of(message)['rsvp']}?answer=maybe")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)  # the skip link comes first
    assert browser.switch_to.active_element.text == "Aller au contenu"
    for _ in range(6):
        active = browser.switch_to.active_element
        if active.get_attribute("type") == "radio":
            break
        active.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("value") == "maybe"
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)  # to the next answer, wrapping to "yes"
    browser.switch_to.active_element.send_keys(Keys.TAB)
    old = browser.find_element(By.TAG_NAME, "html")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    replaced(browser, old)
    assert "Votre réponse est enregistrée" in browser.find_element(By.TAG_NAME, "h1").text
    s, c = settings
    assert rsvp.get_rsvp(c.dynamodb, s.table, campaign_id, sid).answer == "yes"
