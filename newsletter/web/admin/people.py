"""People (``admin/people``, officers only): find a person by their exact address, see
their lists, language, suppression, deliveries and web sign-up; suppress, unsuppress,
forget (the officer types the address again), print their consent record.

Addresses travel in POST bodies only, never in a URL: links end up in the server's
access log, the browser's history and Referer headers. So the person page is the
answer to a POST (the search form, or an action, which shows the page again).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsletter.app import people, persons, subscriptions
from newsletter.app.accounts import Account
from newsletter.errors import RecipientError
from newsletter.web.admin.access import admin_page
from newsletter.web.admin.site import admin_site
from newsletter.web.admin.views import render
from newsletter.web.security import BadForm, read_form


async def _form(request: Request) -> FormData | None:
    try:
        return await read_form(request)
    except BadForm:
        return None


def _search(request: Request, user: Account, *, email: str = "", error: str = "",
            status: int = 200) -> Response:
    return render(request, user, "people.html.j2", status=status, email=email, error=error)


def _not_an_address(request: Request, user: Account, email: str) -> Response:
    """The search form again, with what was typed (cut to an address's length)."""
    return _search(request, user, email=email[:320], error="not_an_address", status=400)


async def _person(request: Request, user: Account, email: str, *, notice: str = "",
                  error: str = "", status: int = 200) -> Response:
    ws = admin_site(request).ws
    try:
        person = await run_in_threadpool(persons.find, ws, email)
    except RecipientError:
        return _not_an_address(request, user, email)
    return render(request, user, "person.html.j2", status=status, person=person,
                  notice=notice, error=error, reasons=people.MANUAL_REASONS)


@admin_page(officer=True)
async def search(request: Request, user: Account) -> Response:
    return _search(request, user)


@admin_page(officer=True)
async def find(request: Request, user: Account) -> Response:
    form = await _form(request)
    if form is None:
        return _search(request, user, error="bad_form", status=400)
    return await _person(request, user, str(form.get("email") or ""))


@admin_page(officer=True)
async def suppress(request: Request, user: Account) -> Response:
    form = await _form(request)
    if form is None:
        return _search(request, user, error="bad_form", status=400)
    email, reason = str(form.get("email") or ""), str(form.get("reason") or "manual")
    if reason not in people.MANUAL_REASONS:
        return await _person(request, user, email, error="bad_reason", status=400)
    try:
        added = await run_in_threadpool(persons.suppress, admin_site(request).ws, email,
                                        reason, user.name)
    except RecipientError:
        return _not_an_address(request, user, email)
    return await _person(request, user, email,
                         notice="suppressed" if added else "already_suppressed")


@admin_page(officer=True)
async def unsuppress(request: Request, user: Account) -> Response:
    form = await _form(request)
    if form is None:
        return _search(request, user, error="bad_form", status=400)
    email = str(form.get("email") or "")
    try:
        removed = await run_in_threadpool(persons.unsuppress, admin_site(request).ws, email,
                                          user.name)
    except RecipientError:
        return _not_an_address(request, user, email)
    return await _person(request, user, email,
                         notice="unsuppressed" if removed else "not_suppressed")


@admin_page(officer=True)
async def forget(request: Request, user: Account) -> Response:
    form = await _form(request)
    if form is None:
        return _search(request, user, error="bad_form", status=400)
    email, typed = str(form.get("email") or ""), str(form.get("confirm") or "")
    ws = admin_site(request).ws
    try:
        people.address(email)
    except RecipientError:
        return _not_an_address(request, user, email)
    try:
        done = await run_in_threadpool(persons.forget, ws, email, typed, user.name)
    except RecipientError:  # the typed address differs: nothing was erased
        return await _person(request, user, email, error="confirm_forget", status=400)
    return render(request, user, "forgotten.html.j2", done=done,
                  files=[ws.relative(p) for p in done.exports])


@admin_page(officer=True)
async def consent(request: Request, user: Account) -> Response:
    form = await _form(request)
    if form is None:
        return _search(request, user, error="bad_form", status=400)
    email = str(form.get("email") or "")
    try:
        trail = await run_in_threadpool(subscriptions.consent, admin_site(request).ws, email)
    except RecipientError:
        return _not_an_address(request, user, email)
    return render(request, user, "consent.html.j2", trail=trail)


routes = [
    Route("/people", search, methods=["GET"]),
    Route("/people/find", find, methods=["POST"]),
    Route("/people/suppress", suppress, methods=["POST"]),
    Route("/people/unsuppress", unsuppress, methods=["POST"]),
    Route("/people/forget", forget, methods=["POST"]),
    Route("/people/consent", consent, methods=["POST"]),
]
