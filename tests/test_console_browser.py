"""The console in a real browser (Debian's chromium through selenium), served by `convier console`'s server:
sign in through the one-time address, import a list, upload the seed and fill the form, preview, test-send,
send from the keyboard, watch the counters reach the audience, download the report, read the journal.
axe-core checks every page (no serious or critical violation).

With UPDATE_SCREENSHOTS=1, each page is saved at 1280 px and at 390 px to docs/console-*.png (README).
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from convier.cli.console import make_console_server
from samples import SEED
from test_browser import DOCS, accessibility, browser, replaced  # noqa: F401 (the browser fixture)
from webkit import people, write_list


@pytest.fixture
def console_url(settings):
    server, url = make_console_server(settings.settings, settings.clients, 0, email="agent.test@exemple.gouv.fr")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def check(driver, name: str) -> None:
    """French, a title, no traceback, no serious or critical axe violation; screenshots on demand."""
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert driver.find_elements(By.TAG_NAME, "h1"), name
    assert "Traceback" not in driver.page_source
    assert accessibility(driver) == [], name
    if os.environ.get("UPDATE_SCREENSHOTS"):
        for width, suffix in ((1280, ""), (390, "-mobile")):
            driver.set_window_size(width, 900)
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(width, min(max(600, height + 20), 2400))
            time.sleep(1)  # the preview frames paint again after a resize
            driver.save_screenshot(str(DOCS / f"console-{name}{suffix}.png"))
        driver.set_window_size(1000, 900)


def click(driver, css: str) -> None:
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, css).click()
    replaced(driver, old)


def counter(driver) -> str:
    """The « Envoyés » counter (the refresh may replace it between finding and reading it)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        return driver.find_element(By.ID, "compteur-envoyes").text
    except StaleElementReferenceException:
        return ""


def tab_to(driver, text: str, most: int = 60):
    """Presses Tab until the focused element shows `text` (the keyboard alone reaches it)."""
    body = driver.find_element(By.TAG_NAME, "body")
    for _ in range(most):
        body.send_keys(Keys.TAB) if _ == 0 else driver.switch_to.active_element.send_keys(Keys.TAB)
        focused = driver.switch_to.active_element
        if text in (focused.text or focused.get_attribute("value") or ""):
            return focused
    raise AssertionError(f"« {text} » n’est pas atteignable au clavier")


def test_the_staff_journey_in_a_browser(browser,  # noqa: F811 (the fixture)
                                        console_url, settings, tmp_path):
    driver = browser
    base = console_url.split("/console/")[0]
    driver.get(console_url)
    assert driver.current_url.endswith("/console/campagnes")
    check(driver, "campagnes-vide")

    # Listes: import a file with one bad row; the report shows only that row, with its spreadsheet number
    driver.get(f"{base}/console/listes")
    path = write_list(tmp_path, people(3))
    path.write_text(path.read_text() + "pas-une-adresse,Jean,Dupont\n", encoding="utf-8")
    driver.find_element(By.ID, "list").send_keys("invites")
    driver.find_element(By.ID, "file").send_keys(str(path))
    click(driver, "main form[enctype] button[type=submit]")
    assert "3 ajoutés" in driver.page_source
    assert driver.find_element(By.CSS_SELECTOR, "tr.console-bad th").text == "5"
    check(driver, "liste-import")

    # Nouvelle campagne: the seed uploaded, the form in French
    driver.get(f"{base}/console/campagnes/nouvelle")
    check(driver, "nouvelle")
    driver.find_element(By.ID, "post_file").send_keys(str(SEED))
    driver.find_element(By.ID, "subject").send_keys("Invitation : L’État dans le nuage")
    for field, value in (("start_date", "2030-01-24"), ("start_time", "09:00"), ("end_date", "2030-01-24"),
                         ("end_time", "17:30")):
        driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, field), value)
    driver.find_element(By.ID, "place").send_keys("Station F")
    click(driver, "main form button[type=submit]")
    assert "/console/campagnes/" in driver.current_url and "Aperçu" in driver.title
    frames = driver.find_elements(By.CSS_SELECTOR, "iframe.console-frame")
    assert [f.get_attribute("sandbox") for f in frames] == ["allow-popups allow-popups-to-escape-sandbox"] * 2
    assert [round(f.size["width"]) for f in frames] == [640, 390]
    check(driver, "apercu")
    preview_url = driver.current_url

    click(driver, "form[action$='/test'] button")
    assert "Test envoyé à agent.test@exemple.gouv.fr" in driver.page_source
    campaign_id = preview_url.rsplit("/", 1)[1]
    assert list((settings.settings.outbox / campaign_id / "tests").glob("*.eml"))

    # Vérifier et envoyer, by the keyboard alone
    click(driver, "a[href$='/envoi']")
    check(driver, "envoi")
    old = driver.find_element(By.TAG_NAME, "html")
    tab_to(driver, "Envoyer 3 invitations").send_keys(Keys.ENTER)
    replaced(driver, old)
    assert driver.current_url.endswith("/suivi")
    deadline = time.monotonic() + 90
    while counter(driver) != "3":  # the page refreshes itself while sending
        assert time.monotonic() < deadline, driver.page_source
        time.sleep(0.5)
    check(driver, "suivi")

    report = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(document.querySelector('a[href$=\"rapport.csv\"]').href).then(r => r.text()).then(done);")
    assert "agent02@exemple.gouv.fr" in report  # (fetch drops the BOM; test_console checks it)

    driver.get(f"{base}/console/campagnes/{campaign_id}/annuler")
    check(driver, "confirmation")
    driver.get(f"{base}/console/campagnes")
    assert "L’État dans le nuage" in driver.page_source
    check(driver, "campagnes")
    driver.get(f"{base}/console/abonnes?adresse=agent01@exemple.gouv.fr")
    check(driver, "abonne")
    driver.get(f"{base}/console/journal")
    for action in ("connexion", "import", "création", "envoi de test", "envoi", "rapport téléchargé"):
        assert f">{action}<" in driver.page_source, action
    check(driver, "journal")


def test_skip_link_and_sign_in_page(browser, console_url):  # noqa: F811 (the fixture)
    driver = browser
    base = console_url.split("/console/")[0]
    driver.get(f"{base}/console/campagnes")  # no session: the sign-in page
    assert driver.current_url.endswith("/console/connexion")
    check(driver, "connexion")
    driver.get(console_url)
    link = tab_to(driver, "Aller au contenu")
    link.send_keys(Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "contenu"
