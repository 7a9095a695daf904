"""`diagnose serve` in a real browser: Debian's chromium, headless, through its own
chromedriver (selenium; no driver download). A consultation to an article with and
without JavaScript in both languages, the keyboard alone, axe-core on every page, and
the layout of a 360 px phone. When chromium is missing these tests fail: README's
Set-up installs it (apt-get install chromium chromium-driver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from webclient import Server, consultation_cases

from diagnose.kb.loader import load

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CASES = [
    *consultation_cases(),
    # and one whose live check runs on the address typed into the page
    (
        "support-mail-not-received",
        {
            "goal": "contact-support",
            "support-need": "letters-missing",
            "support-email": "someone@good.lab",
        },
    ),
]


@pytest.fixture(scope="module")
def server(dns_server) -> Iterator[Server]:
    web = Server("--nameserver", dns_server.address, "--timeout", "2", "--rate-limit", "0")
    yield web
    web.stop()


def _browser(javascript: bool) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = _browser(javascript=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def plain_browser() -> Iterator[WebDriver]:
    driver = _browser(javascript=False)
    yield driver
    driver.quit()


def _at(driver: WebDriver) -> str:
    """The step the page shows ("" while a new page is loading)."""
    from selenium.common.exceptions import WebDriverException

    try:
        found = driver.find_elements(By.CSS_SELECTOR, "form input[name=at]")
        return (found[0].get_attribute("value") or "") if found else ""
    except WebDriverException:  # the document changed under the lookup
        return ""


def _click_and_wait(driver: WebDriver, element: object) -> None:
    """Press a button or a link that loads a new page, and wait until the new page is
    there whole."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 20).until(lambda d: _stale(old))
    WebDriverWait(driver, 20).until(_loaded)


def _loaded(driver: WebDriver) -> bool:
    from selenium.common.exceptions import WebDriverException

    try:
        return bool(driver.execute_script("return document.readyState") == "complete")
    except WebDriverException:
        return False


def _stale(element: object) -> bool:
    from selenium.common.exceptions import WebDriverException

    try:
        element.tag_name  # type: ignore[attr-defined]  # noqa: B018
    except WebDriverException:  # stale, or its node already left the document
        return True
    return False


def _button(driver: WebDriver, value: str) -> object:
    return driver.find_element(By.CSS_SELECTOR, f'form button[name=action][value="{value}"]')


def _consult(driver: WebDriver, base: str, lang: str, answers: dict[str, str]) -> list[str]:
    """Answer with the mouse: the radio's label, then Next; Yes after the article; skip
    ticket fields; keep the draft. Returns the steps seen."""
    driver.get(f"{base}/?lang={lang}")
    seen = []
    for _ in range(20):
        at = _at(driver)
        seen.append(at)
        if at.startswith("question:"):
            value = answers[at.split(":")[1]]
            radios = driver.find_elements(By.CSS_SELECTOR, f'input[type=radio][value="{value}"]')
            if radios:
                radios[0].find_element(By.XPATH, "..").click()  # the label
            else:
                driver.find_element(By.ID, "answer").send_keys(value)
            _click_and_wait(driver, _button(driver, "answer"))
        elif at == "confirm":
            _click_and_wait(driver, _button(driver, "say:yes"))
        elif at.startswith("field:"):
            _click_and_wait(driver, _button(driver, "say:unknown"))
        elif at == "review":
            _click_and_wait(driver, _button(driver, "say:ok"))
        else:
            assert at == "done", driver.page_source
            return seen
    raise AssertionError("the consultation did not end")


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize(("article", "answers"), CASES, ids=[a for a, _ in CASES])
def test_a_consultation_in_the_browser(
    server, browser, plain_browser, lang, javascript, article, answers
):
    driver = browser if javascript else plain_browser
    enabled = driver.execute_script("return 1") == 1 if javascript else None
    assert enabled in (True, None)
    seen = _consult(driver, server.base, lang, answers)
    title = load(lang=lang).articles[article].title
    assert driver.find_element(By.TAG_NAME, "h1").text == title
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    assert seen[0] == "question:goal:1" and seen[-1] == "done"
    if answers.get("support-email", "unknown") != "unknown":  # the live check's finding
        checks = driver.find_element(By.CSS_SELECTOR, "section.checks").text
        assert "good.lab" in checks


def test_the_pages_script_runs_only_when_javascript_is_on(browser, plain_browser, server):
    browser.get(server.base + "/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("data-script") == "on"
    plain_browser.get(server.base + "/")
    assert plain_browser.find_element(By.TAG_NAME, "html").get_attribute("data-script") is None


def test_javascript_shows_progress_while_a_reply_is_sent(browser, server):
    browser.get(server.base + "/?goal=contact-support&support-need=letters-missing")
    browser.find_element(By.ID, "answer").send_keys("someone@good.lab")
    # Listeners on window run after the page's own (on document): record what it did.
    browser.execute_script(
        "sessionStorage.clear(); window.addEventListener('submit', function () {"
        " sessionStorage.setItem('progress', String(!document.getElementById('progress').hidden));"
        " });"
    )
    _click_and_wait(browser, _button(browser, "answer"))
    assert _at(browser) == "confirm"
    assert browser.execute_script("return sessionStorage.getItem('progress')") == "true"


def _keyboard(driver: WebDriver, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver)
    for key in keys:
        chain.send_keys(key)
    chain.perform()


def _focused(driver: WebDriver) -> object:
    return driver.switch_to.active_element


def _tab_to(driver: WebDriver, predicate: object, limit: int = 30) -> None:
    for _ in range(limit):
        _keyboard(driver, Keys.TAB)
        if predicate(_focused(driver)):  # type: ignore[operator]
            return
    raise AssertionError("the keyboard did not reach the element")


def test_keyboard_alone(browser, server):
    browser.get(server.base + "/?lang=en")
    _keyboard(browser, Keys.TAB)
    assert _focused(browser).get_attribute("class") == "skip"  # the first stop skips the header
    _tab_to(browser, lambda e: e.get_attribute("value") == "sign-in")
    _keyboard(browser, Keys.SPACE)
    old = browser.find_element(By.TAG_NAME, "html")
    _keyboard(browser, Keys.ENTER)  # Enter submits with the default button, Next
    WebDriverWait(browser, 20).until(lambda d: _stale(old))
    assert _at(browser) == "question:sign-in-problem:2"
    _tab_to(browser, lambda e: e.get_attribute("value") == "forgot-password")
    _keyboard(browser, Keys.SPACE, Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda d: _at(d) == "confirm")
    _tab_to(browser, lambda e: e.get_attribute("value") == "say:yes")
    _keyboard(browser, Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda d: _at(d) == "done")
    _tab_to(browser, lambda e: e.tag_name == "summary")
    _keyboard(browser, Keys.ENTER)  # the explanation unfolds
    assert (
        browser.find_element(By.CSS_SELECTOR, "details.explain").get_attribute("open") is not None
    )
    _tab_to(browser, lambda e: e.get_attribute("value") == "back")
    _keyboard(browser, Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda d: _at(d) == "confirm")


def _pages(base: str) -> list[str]:
    """A page of every kind: each question type, an article to confirm, ticket fields
    (text, choice, multiline), the draft, the end, an error, in both languages."""
    return [
        "/?goal=fly",  # an error
        "/nothing",  # not found
        "/",
        "/?goal=sign-in",
        "/?goal=register&register-problem=phone-rejected",  # a phone number
        "/?goal=contact-support&support-need=letters-missing",  # an email address
        "/?goal=sign-in&sign-in-problem=forgot-password",  # Did this solve it?
        "/?goal=contact-support&support-need=letters-missing"
        "&support-email=a%40nullmx.lab",  # a failed check: the correction field
        "/?goal=sign-in&sign-in-problem=lost-2fa",  # a ticket field
        "/?goal=sign-in&sign-in-problem=lost-2fa&login=a@b.example&project=p",  # a choice field
        "/?goal=sign-in&sign-in-problem=lost-2fa&login=a@b.example&project=p"
        "&lost-factor=phone-lost",  # the multi-line description
        "/?goal=sign-in&sign-in-problem=lost-2fa&login=a@b.example&project=p"
        "&lost-factor=phone-lost&description=lost",  # the draft: the last, see _finish
    ]


def _axe(driver: WebDriver) -> list[dict[str, object]]:
    driver.execute_script(AXE)
    violations: list[dict[str, object]] = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(function (r) { done(r.violations.map(function (v) {"
        " return {id: v.id, help: v.help, nodes: v.nodes.map(function (n) {"
        " return n.target.join(' '); })}; })); })"
        ".catch(function (e) { done([{id: 'axe-error', help: String(e)}]); });"
    )
    return violations


def _finish(driver: WebDriver) -> None:
    """From the draft to the end (the one page no GET reaches)."""
    _click_and_wait(driver, _button(driver, "say:ok"))
    assert _at(driver) == "done"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_axe_finds_no_violation_on_any_page(browser, server, lang):
    browser.set_script_timeout(60)
    found = {}
    for path in _pages(server.base):
        browser.get(server.base + path + ("&" if "?" in path else "?") + f"lang={lang}")
        found[path] = _axe(browser)
    _finish(browser)  # the last GET was the draft: keep it, and check the end page
    found["(done)"] = _axe(browser)
    browser.get(server.base + "/?goal=sign-in&lang=" + lang)
    # Nothing chosen: the server's error (the browser's own check is taken away first).
    browser.execute_script(
        "document.querySelectorAll('[required]').forEach(function (e) {"
        " e.removeAttribute('required'); });"
    )
    _click_and_wait(browser, _button(browser, "answer"))
    assert browser.find_element(By.CSS_SELECTOR, ".error").is_displayed()
    found["(error)"] = _axe(browser)
    assert {path: v for path, v in found.items() if v} == {}


def _emulate(driver: WebDriver, width: int) -> None:
    driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 740, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def test_nothing_overflows_at_360_px(browser, server):
    _emulate(browser, 360)
    try:
        overflowing = {}
        for path in _pages(server.base):
            for lang in ("en", "ru"):
                browser.get(server.base + path + ("&" if "?" in path else "?") + f"lang={lang}")
                width = browser.execute_script("return document.documentElement.scrollWidth")
                wide = browser.execute_script(
                    "return Array.from(document.querySelectorAll('body *'))"
                    ".filter(function (e) { return e.getBoundingClientRect().right > 360.5; })"
                    ".map(function (e) { return e.tagName + '.' + e.className; })"
                )
                if width > 360 or wide:
                    overflowing[f"{path} {lang}"] = (width, wide)
        _finish(browser)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
        assert overflowing == {}
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})  # type: ignore[attr-defined]


def test_it_reads_well_at_1280_px(browser, server):
    _emulate(browser, 1280)
    try:
        browser.get(server.base + "/?goal=sign-in&sign-in-problem=forgot-password")
        main = browser.find_element(By.ID, "main")
        # A measure of about 70 characters: the column does not stretch across the screen.
        assert 500 < main.size["width"] <= 760
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})  # type: ignore[attr-defined]
