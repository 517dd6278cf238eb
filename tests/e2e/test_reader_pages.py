"""The reader's pages in Chromium, end to end: an Arabic sign-up through its
confirmation mail to the list 'web', the one-click unsubscribe page and its button,
and preferences that change who gets which edition in the next send.

Every step is checked where it counts: in the ledger and in the dry-run plan of the
next send, read through the application layer, not in the page that says "done".
"""

from __future__ import annotations

from newsletter.app import people, subscriptions
from tests.e2e.browsing import (
    confirmation_mail,
    follow,
    html_lang_dir,
    mail_links,
    press,
    readers,
    unsubscribe_url,
    workspace,
)

SIGNING_UP = "amira.saleh@example.org"  # in no list of the example workspace
LISTED = "layla.mansour@example.org"  # members.csv: ar
PREFERRING = "jugend@elternverein-katernberg.example.org"  # members.csv: tr, youth;sports
FARSI_MEMBER = "reza.ahmadi@example.net"  # members.csv: fa


def test_arabic_sign_up_through_the_confirmation_mail_to_the_list_web(browser, live):
    base, root = live
    ws = workspace(root)
    page = browser.new_page()
    page.goto(f"{base}subscribe?lang=ar")
    assert html_lang_dir(page) == ("ar", "rtl")
    assert not page.locator("#consent").is_checked()  # never ticked for the reader
    page.locator("#email").fill(SIGNING_UP)
    page.locator("#name").fill("أميرة صالح")
    page.locator("#language").select_option("ar")
    page.locator("#topic-youth").check()
    page.locator("#topic-culture").check()
    page.locator("#consent").check()
    answer = press(page, page.locator("main button[type=submit]"))
    assert answer.status == 200 and page.locator("#email").count() == 0  # "check your inbox"

    message = confirmation_mail(ws, SIGNING_UP)
    assert message["Content-Language"] == "ar"
    assert message["To"].addresses[0].addr_spec == SIGNING_UP
    confirm = [link for link in mail_links(message) if link.startswith(f"{base}confirm?t=")]
    assert len(confirm) == 1, mail_links(message)

    page.goto(confirm[0])
    assert html_lang_dir(page) == ("ar", "rtl")  # the language the reader chose
    # mail scanners open every link: the page alone must confirm nothing
    assert readers(ws, "web") == {}
    assert page.locator("main button").count() == 1
    answer = press(page, page.locator("main button"))
    assert answer.status == 200
    assert readers(ws, "web") == {SIGNING_UP: ("ar", "ar", "")}
    assert SIGNING_UP in readers(ws, "web", tags=("youth", "culture"))  # the topics ticked
    (web,) = [count for count in people.list_summary(ws).lists if count.name == "web"]
    assert (web.valid, web.by_language) == (1, {"ar": 1})


def test_unsubscribe_page_suppresses_only_by_its_button_and_only_once(browser, live):
    base, root = live
    ws = workspace(root)
    rid = subscriptions.signer(ws).recipient_id(LISTED)
    url = unsubscribe_url(base, ws, LISTED)
    page = browser.new_page()
    page.goto(url)
    assert page.locator("main button").count() == 1
    assert people.suppressions(ws) == []  # link scanners open the page: nothing happens

    for _ in range(2):  # a reader who comes back and presses again changes nothing more
        page.goto(url)
        answer = press(page, page.locator("main button"))
        assert answer.status == 200  # RFC 8058: never a redirect
        assert [(s.key, s.reason) for s in people.suppressions(ws)] == [(rid, "unsubscribe")]
    assert [e.event for e in subscriptions.consent(ws, LISTED).events] == ["unsubscribe"]

    # afterwards: the preferences, and a button that really subscribes again
    preferences = follow(page, page.locator("main a"))
    assert preferences.startswith(f"{base}preferences?t=")
    again = page.locator("main form:has(input[name=action][value=resubscribe]) button")
    assert again.count() == 1
    answer = press(page, again)
    assert answer.status == 200 and people.suppressions(ws) == []
    assert [e.event for e in subscriptions.consent(ws, LISTED).events] == [
        "unsubscribe", "resubscribe"]
    page.goto(preferences)
    assert page.locator("#language").input_value() == "ar"  # the page knows the reader


def test_preferences_saved_in_the_browser_change_the_next_send_plan(browser, live):
    base, root = live
    ws = workspace(root)
    assert readers(ws, "members")[PREFERRING] == ("tr", "tr", "")
    assert PREFERRING not in readers(ws, "members", tags=("culture",))
    page = browser.new_page()
    page.goto(unsubscribe_url(base, ws, PREFERRING))
    page.goto(follow(page, page.locator("main a")))  # "or choose language and topics"
    assert page.locator("#topic-youth").is_checked()  # from the list's tags
    assert not page.locator("#topic-culture").is_checked()
    page.locator("#language").select_option("fa")
    page.locator("#topic-culture").check()
    answer = press(page, page.locator("main button[type=submit]"))
    assert answer.status == 200 and page.locator("[role=status]").count() == 1
    assert people.suppressions(ws) == []  # choosing is not unsubscribing

    plan = readers(ws, "members")
    reader, edition, reason = plan[PREFERRING]
    # Farsi has no reviewed edition of the example release: the fallback chain of
    # newsletter.toml decides, for this reader as for every other Farsi reader
    assert (reader, edition) == ("fa", ws.config.languages.fallback["fa"][0])
    assert plan[FARSI_MEMBER][1:] == (edition, reason) and reason
    assert PREFERRING in readers(ws, "members", tags=("culture",))
    # 'sports' is no topic of the page, so saving it must not have switched it off
    assert PREFERRING in readers(ws, "members", tags=("sports",))
