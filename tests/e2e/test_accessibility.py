"""axe-core on every public page, in German, Arabic, Farsi and Kurmanji: no serious
and no critical violation (WCAG 2 A/AA and axe's best practices, as axe runs them by
default), on each page as a reader reaches it and after each button.
"""

from __future__ import annotations

import pytest

from tests.e2e.browsing import (
    blocking_violations,
    confirmation_mail,
    follow,
    html_lang_dir,
    mail_links,
    press,
    unsubscribe_url,
    workspace,
)

LANGS = ("de", "ar", "fa", "ku")


@pytest.mark.parametrize("lang", LANGS)
def test_no_serious_or_critical_violation_on_any_public_page(browser, live, lang):
    base, root = live
    ws = workspace(root)
    email = f"reader-{lang}@example.org"
    page = browser.new_page()
    found: dict[str, list[str]] = {}

    def check(name: str, status: int = 200) -> None:
        # axe judges what is on screen: make sure it is the page and language meant
        assert (name, html_lang_dir(page)[0]) == (name, lang)
        assert (name, answer.status if answer else None) == (name, status)
        found[name] = blocking_violations(page)

    answer = page.goto(f"{base}subscribe?lang={lang}")
    check("subscribe")
    # the form back with its errors: a browser without the form check of `required`
    page.locator("main form").evaluate("form => { form.noValidate = true; }")
    answer = press(page, page.locator("main button[type=submit]"))
    check("subscribe, errors", 422)
    page.locator("#email").fill(email)
    page.locator("#language").select_option(lang)
    page.locator("#consent").check()
    answer = press(page, page.locator("main button[type=submit]"))
    check("subscribe, sent")

    confirm = next(link for link in mail_links(confirmation_mail(ws, email))
                   if link.startswith(f"{base}confirm?t="))
    answer = page.goto(confirm)
    check("confirm")
    answer = press(page, page.locator("main button"))
    check("confirm, done")

    answer = page.goto(unsubscribe_url(base, ws, email))
    check("unsubscribe")
    answer = press(page, page.locator("main button"))
    check("unsubscribe, done")
    answer = page.goto(follow(page, page.locator("main a")))
    check("preferences (unsubscribed: with the re-subscribe button)")
    answer = press(page, page.locator("main form:has(input[value=save]) button"))
    check("preferences, saved")

    answer = page.goto(f"{base}unsubscribe?t=forged&lang={lang}")
    check("error: a link that is not valid", 400)
    answer = page.goto(f"{base}no-such-page?lang={lang}")
    check("error: no such page", 404)

    assert {name: v for name, v in found.items() if v} == {}
    page.close()


def test_the_check_sees_a_form_field_without_a_label(browser):
    """The check can fail: an unlabelled field and a nameless button are critical."""
    page = browser.new_page()
    page.set_content('<html lang="ar" dir="rtl"><head><title>x</title></head><body><main>'
                     '<form><input type="email" name="email"><button></button></form>'
                     "</main></body></html>")
    found = " ".join(blocking_violations(page))
    assert "label (critical)" in found and "button-name (critical)" in found
    page.close()
