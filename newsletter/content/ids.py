"""Release ids: the name of ``releases/<id>.md``, and of everything made from it (the
gettext catalog ``locales/<id>.pot``, the archive's folder ``<id>/``, the campaigns
``<id>-<hash>``). So an id is checked once, here, for every place that takes one: the
import's ``--id``, the admin pages' URLs and the loading of a release file."""

from __future__ import annotations

import re

# ids never longer than this: "<id>-<8 hex>-sandbox" stays a campaign id (121
# characters), "<id>.pot" and the atomic writes' temporary names stay file names
MAX_LENGTH = 100
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# names the workspace already uses where a release's name goes:
RESERVED = {
    # the UI strings' gettext domains (translation/uistrings.UI_DOMAINS):
    # locales/<domain>.pot and locales/<lang>/LC_MESSAGES/<domain>.po
    "messages": "the catalog of the mails' UI strings (locales/messages.pot)",
    "web": "the catalog of the reader's pages (locales/web.pot)",
    "admin": "the catalog of the admin pages (locales/admin.pot)",
    # translation/about.DOMAIN: the About-us text of newsletter.toml
    "about": "the catalog of the About-us text (locales/about.pot)",
    # the web archive's own files and folders beside the releases' folders
    "releases": "the web archive's folder of images",
    "index.html": "the web archive's start page",
    "archive.css": "the web archive's stylesheet",
}
# the digest's id and campaigns: digest-YYYY-MM, digest-YYYY-MM-<hash>
_DIGEST = re.compile(r"digest-\d{4}-\d{2}(?:-.*)?", re.I)


def problem(release_id: str) -> str | None:
    """Why ``release_id`` cannot name a release, as one sentence, or None."""
    if not release_id:
        return "a release id cannot be empty"
    if not _ID.fullmatch(release_id):  # fullmatch: "x\n" is not "x"
        return (f"release id {release_id[:MAX_LENGTH]!r}: use only letters, digits, '.', "
                "'_' and '-', starting with a letter or digit")
    if len(release_id) > MAX_LENGTH:
        return (f"release id {release_id[:40]!r}… is {len(release_id)} characters long; "
                f"at most {MAX_LENGTH}")
    taken = RESERVED.get(release_id.casefold())  # casefold: macOS and Windows file names
    if taken is not None:
        return f"release id {release_id!r} is reserved: it is {taken}; choose another"
    if _DIGEST.fullmatch(release_id):
        return (f"release id {release_id!r} is reserved: digest-YYYY-MM names the monthly "
                "digest and its campaigns; choose another")
    return None
