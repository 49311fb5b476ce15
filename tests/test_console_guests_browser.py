"""The answers page and the follow-up pages in a real browser (Debian's chromium through selenium), served by
`convier console`'s server: tabs by answer from the keyboard, a person's history opened, « Écrire à ce groupe »,
a ready-made follow-up chosen, edited, previewed and scheduled, the capacity raised after a confirmation.
axe-core checks every page (no serious or critical violation).

With UPDATE_SCREENSHOTS=1, each page is saved at 1280 px and at 390 px to docs/console-*.png (README).
"""

from __future__ import annotations

import threading

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from consolekit import drain_campaign
from convier.services import schedules
from convier.store import records
from test_browser import accessibility, browser, replaced  # noqa: F401 (the browser fixture)
from test_console_answers import answer, people, sid
from test_console_browser import check, click, console_url, tab_to  # noqa: F401 (the console_url fixture)
from webkit import messages, sent_campaign


def checked(driver, name: str) -> None:
    """`check` without a screenshot: pages the README does not show (an Aperçu, a confirmation)."""
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert driver.find_elements(By.TAG_NAME, "h1"), name
    assert "Traceback" not in driver.page_source
    assert accessibility(driver) == [], name


def test_answers_and_followups_in_a_browser(browser, console_url, cli, settings, tmp_path):  # noqa: F811
    driver = browser
    s, c = settings
    invitation = sent_campaign(cli, tmp_path, people(6), campaign_yaml="capacity: 2\n")
    answer(settings, invitation, {0: "yes", 1: "yes", 2: "yes", 3: "maybe", 4: "no"})
    answer(settings, invitation, {0: "maybe", 5: "yes"})  # 0 changes their mind: 2 promoted, 5 waits
    drain_campaign(settings, records.promotion_of(invitation))  # « Une place s’est libérée » to agent02
    base = console_url.split("/console/")[0]
    driver.get(console_url)
    assert driver.current_url.endswith("/console/campagnes")

    # Réponses: the counts, the tabs from the keyboard, a person's history opened with Enter
    driver.get(f"{base}/console/campagnes/{invitation}/reponses")
    assert "Réponses" in driver.title
    check(driver, "reponses")
    old = driver.find_element(By.TAG_NAME, "html")
    tab_to(driver, "Liste d’attente (1)").send_keys(Keys.ENTER)
    replaced(driver, old)
    assert driver.current_url.endswith("segment=waiting")
    assert [td.text for td in driver.find_elements(By.CSS_SELECTOR, "tbody tr td:nth-child(3)")] == [
        "agent05@exemple.gouv.fr"]
    driver.get(f"{base}/console/campagnes/{invitation}/reponses?segment=confirmed")
    summary = tab_to(driver, "2 réponses")
    summary.send_keys(Keys.ENTER)
    assert summary.find_element(By.XPATH, "..").get_attribute("open") is not None
    assert "place libérée" in driver.find_element(By.TAG_NAME, "main").text

    # « Écrire à ce groupe »: the follow-up form preset to that group; a ready-made text chosen
    driver.get(f"{base}/console/campagnes/{invitation}/reponses?segment=waiting")
    click(driver, "a[href*='/suivis/nouveau?to_waiting=1']")
    assert driver.find_element(By.ID, "to_waiting").is_selected()
    assert not driver.find_element(By.ID, "to_confirmed").is_selected()
    checked(driver, "suivi-nouveau-groupe")
    driver.find_element(By.CSS_SELECTOR, "label[for='modele-rappel']").click()
    click(driver, "form[method='get'] button[type=submit]")
    assert driver.find_element(By.ID, "to_confirmed").is_selected()
    assert "pièce d’identité" in driver.find_element(By.ID, "message").get_attribute("value")
    check(driver, "suivi-nouveau")
    subject = driver.find_element(By.ID, "subject")
    subject.clear()
    subject.send_keys("Rappel : à demain")
    driver.find_element(By.CSS_SELECTOR, "label[for='to_maybe']").click()
    click(driver, "form[method='post'][action$='/suivis'] button[type=submit]")
    assert "Aperçu" in driver.title and "confirmés, peut-être" in driver.page_source
    followup = driver.current_url.split("/campagnes/")[1].split("?")[0]
    checked(driver, "suivi-apercu")

    # Vérifier et envoyer: the groups' count; the send scheduled in Paris time, from the keyboard
    click(driver, "a[href*='/envoi']")
    assert "Envoyer 4 messages" in driver.page_source  # confirmed 01, 02; maybe 00, 03
    for field, value in (("date", "2030-01-23"), ("time", "10:00")):
        driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, field), value)
    check(driver, "suivi-envoi")
    old = driver.find_element(By.TAG_NAME, "html")
    tab_to(driver, "Programmer l’envoi").send_keys(Keys.ENTER)
    replaced(driver, old)
    assert driver.current_url.split("?")[0].endswith(f"/{followup}/suivi")
    assert "Envoi programmé le 23 janvier 2030 à 10 h 00" in driver.page_source
    assert followup in schedules.scheduled(c, s)
    check(driver, "suivi-programme")
    driver.get(f"{base}/console/campagnes")
    assert driver.find_elements(By.CSS_SELECTOR, "tr.console-children")
    check(driver, "campagnes-suivis")

    # Modifier (the new-campaign form, prefilled), the change notice's offer, the cancellation's confirmation
    driver.get(f"{base}/console/campagnes/{invitation}/modifier")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Modifier la campagne"
    checked(driver, "modifier")
    driver.get(f"{base}/console/campagnes/{invitation}/changement")
    checked(driver, "changement")
    driver.get(f"{base}/console/campagnes/{invitation}/annuler-evenement")
    checked(driver, "annuler-evenement")

    # the capacity raised, after its confirmation: agent05 gets the place
    driver.get(f"{base}/console/campagnes/{invitation}/reponses")
    places = driver.find_element(By.ID, "places")
    places.clear()
    places.send_keys("3")
    click(driver, "form[action$='/capacite'] button[type=submit]")
    assert "1 personne de la liste d’attente recevra une place" in driver.page_source
    checked(driver, "capacite")
    click(driver, "main form[method='post'] button[type=submit]")
    assert "a reçu une place" in driver.page_source and "Liste d’attente (0)" in driver.page_source
    for thread in [t for t in threading.enumerate() if t.name.startswith("envoi-")]:
        thread.join(120)  # the console's worker sends « Une place s’est libérée » in the background
    assert sid(settings, 5) in messages(settings, records.promotion_of(invitation))
