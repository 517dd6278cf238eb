"""The shipped deployment (deploy/) for real: Debian's nginx and Caddy, each with the
shipped file (only the listen address, the certificate, the upstream port and what a
test machine needs changed, each substitution named below), in front of `newsletter
serve` on a copy of the example workspace. Through them: the one-click unsubscribe of
a real message's List-Unsubscribe URL, signed with the previous secret, and the sign-up
and admin login pages. The systemd unit is checked by systemd-analyze. Then the local
trial: `newsletter serve --local` and the addresses it prints.

A proxy that is not installed is a skip that says so (`.ci/run` installs both).
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import trustme
from click.testing import CliRunner

from newsletter.app import serving, subscriptions
from newsletter.cli import cli
from newsletter.delivery.keys import load_signer
from newsletter.workspace.loading import load_workspace
from tests.admin import PASSWORD
from tests.conftest import EXAMPLE_RELEASE, REPO, copy_workspace
from tests.fake_smtp import free_port

DEPLOY = REPO / "deploy"
HOST = "verbund.example.org"  # public_url's host in the example workspace
BASE = "/newsletter/app/"
OLD = "old-secret-" + "o" * 30  # signed the mails; NEWSLETTER_SECRET_PREVIOUS now
NEW = "new-secret-" + "n" * 30  # NEWSLETTER_SECRET of the running server
NEWSLETTER = Path(sys.executable).with_name("newsletter")  # the installed command
CLI = [sys.executable, "-m", "newsletter"]  # the same, run by this test's interpreter
ONE_CLICK = {"content": b"List-Unsubscribe=One-Click",
             "headers": {"content-type": "application/x-www-form-urlencoded"}}


def _wait_for_port(port: int, proc: subprocess.Popen, what: str, log: Path | None = None,
                   timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            said = log.read_text(errors="replace") if log else f"{out!r} {err!r}"
            pytest.fail(f"{what} exited with {proc.returncode}: {said}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the app, the mails it signed, and a TLS certificate ------------------------------------

@dataclass(frozen=True)
class Served:
    root: Path
    port: int
    mails: tuple[tuple[str, str], ...]  # (address, List-Unsubscribe https URL) per message
    ca: trustme.CA
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`newsletter serve` (the command the unit runs) with NEWSLETTER_SECRET=NEW and
    NEWSLETTER_SECRET_PREVIOUS=OLD, on a workspace whose press list got the example
    release through the outbox while OLD was the secret."""
    tmp = tmp_path_factory.mktemp("deploy")
    root = copy_workspace(tmp / "ws")
    env = {**os.environ, "NEWSLETTER_SECRET": OLD}
    env.pop("NEWSLETTER_SECRET_PREVIOUS", None)
    env.pop("NEWSLETTER_DATABASE_URL", None)
    sent = subprocess.run([*CLI, "-w", str(root), "send", EXAMPLE_RELEASE,
                           "--list", "press"], env=env, capture_output=True, text=True)
    assert sent.returncode == 0, sent.stderr
    mails = []
    for path in sorted((root / "outbox").glob("*/*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        https = re.search(r"<(https://[^>]+)>", str(msg["List-Unsubscribe"]))
        assert https is not None, msg["List-Unsubscribe"]
        mails.append((str(msg["To"].addresses[0].addr_spec), https.group(1)))
    assert len(mails) >= 3
    ca = trustme.CA()
    issued = ca.issue_cert(HOST)
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    issued.private_key_pem.write_to_path(str(key))
    port = free_port()
    env.update(NEWSLETTER_SECRET=NEW, NEWSLETTER_SECRET_PREVIOUS=OLD)
    log_path = tmp / "serve.log"
    log = log_path.open("w")
    proc = subprocess.Popen([*CLI, "-w", str(root), "serve", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, proc, "newsletter serve", log_path)
        yield Served(root, port, tuple(mails), ca, cert, key)
    finally:
        _stop(proc)
        log.close()


def _suppressed(root: Path, email: str) -> str:
    return subscriptions.consent(load_workspace(root), email).suppressed or ""


def _client(served: Served) -> httpx.Client:
    context = ssl.create_default_context()
    served.ca.configure_trust(context)
    return httpx.Client(verify=context, follow_redirects=False, timeout=20)


def _through(client: httpx.Client, port: int, method: str, url: str, **kwargs) -> httpx.Response:
    """``url`` (an address on HOST, as a reader's browser or mail client has it) asked of
    the proxy on 127.0.0.1:``port``, with the Host header and TLS server name of HOST."""
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.hostname == HOST, url
    local = parts._replace(netloc=f"127.0.0.1:{port}").geturl()
    headers = {"host": HOST, **kwargs.pop("headers", {})}
    return client.request(method, local, headers=headers,
                          extensions={"sni_hostname": HOST}, **kwargs)


def _check_proxy(served: Served, port: int, mail: tuple[str, str]) -> None:
    """What the issue asks of a proxy: the one-click POST (200, no redirect, suppressed),
    the sign-up page and the admin login page (200), all through it."""
    email, unsubscribe = mail
    assert unsubscribe.startswith(f"https://{HOST}{BASE}unsubscribe?t=")
    assert not _suppressed(served.root, email)
    with _client(served) as client:
        page = _through(client, port, "GET", unsubscribe)  # a scanner's GET changes nothing
        assert page.status_code == 200 and not _suppressed(served.root, email)
        done = _through(client, port, "POST", unsubscribe, **ONE_CLICK)
        assert done.status_code == 200, done.text[:500]
        assert "location" not in done.headers and not done.is_redirect
        assert _suppressed(served.root, email)
        # again, chunked (no Content-Length, as some mail providers post): 200 again
        chunked = iter([b"List-Unsubscribe=", b"One-Click"])
        again = _through(client, port, "POST", unsubscribe, content=chunked,
                         headers=ONE_CLICK["headers"])
        assert again.status_code == 200 and "location" not in again.headers
        for route in ("subscribe", "admin/login"):
            r = _through(client, port, "GET", f"https://{HOST}{BASE}{route}")
            assert r.status_code == 200, (route, r.status_code)
            assert r.headers["content-security-policy"].startswith("default-src 'self'")
        # the app's own forms and redirects name the public address
        login = _through(client, port, "GET", f"https://{HOST}{BASE}admin/")
        assert login.status_code == 303
        assert login.headers["location"].startswith(f"{BASE}admin/login")
        forged = _through(client, port, "POST", unsubscribe[:-2] + "AA", **ONE_CLICK)
        assert forged.status_code == 400


def _substitute(text: str, changes: list[tuple[str, str]]) -> str:
    """Each change; the shipped text must still have the part it replaces."""
    for old, new in changes:
        assert text.count(old) >= 1, f"the shipped file no longer has {old!r}"
        text = text.replace(old, new)
    return text


# --- nginx ---------------------------------------------------------------------------------

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

# the shipped server block goes into this http block, as Debian's nginx.conf includes
# sites-enabled/ there; everything the test machine needs is here, outside the block.
# The workers run as the test's own user (root in CI, where nginx must start as root):
# their temporary files go to the test's folder, which no other user may enter.
NGINX_MAIN = """\
user {user} {group};
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
"""


def _nginx_site(served: Served, port: int) -> list[tuple[str, str]]:
    """The substitutions: listen address, certificate, upstream port. Nothing else."""
    return [
        ("    listen 443 ssl;\n", f"    listen 127.0.0.1:{port} ssl;\n"),
        ("    listen [::]:443 ssl;\n", ""),  # loopback only; IPv6 may be absent here
        (f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(served.cert)),
        (f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(served.key)),
        ("http://127.0.0.1:8000", f"http://127.0.0.1:{served.port}"),
    ]


@pytest.fixture
def nginx(served: Served, tmp_path: Path) -> Iterator[Callable[[list[tuple[str, str]]], int]]:
    """Starts Debian's nginx with deploy/nginx.conf and the given extra substitutions;
    returns its port."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run does)")
    procs: list[subprocess.Popen] = []

    def start(extra: list[tuple[str, str]]) -> int:
        port = free_port()
        prefix = tmp_path / f"nginx-{port}"
        prefix.mkdir()
        site = prefix / "newsletter.conf"
        shipped = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
        site.write_text(_substitute(shipped, _nginx_site(served, port) + extra),
                        encoding="utf-8")
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_MAIN.format(prefix=prefix, site=site,
                                          user=pwd.getpwuid(os.geteuid()).pw_name,
                                          group=grp.getgrgid(os.getegid()).gr_name),
                        encoding="utf-8")
        test = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(prefix)],
                              capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(prefix), "-g", "daemon off;"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        _wait_for_port(port, proc, "nginx")
        return port

    yield start
    for proc in procs:
        _stop(proc)


def test_nginx_as_shipped_serves_the_one_click_post_signed_with_the_previous_secret(
        served, nginx):
    port = nginx([])
    _check_proxy(served, port, served.mails[0])


def test_nginx_stripping_the_path_still_works(served, nginx):
    """The old README's form (proxy_pass with a URI part strips /newsletter/app/): the
    app puts the path back, and its links and redirects still name the public path."""
    port = nginx([(f"proxy_pass http://127.0.0.1:{served.port};",
                   f"proxy_pass http://127.0.0.1:{served.port}/;")])
    _check_proxy(served, port, served.mails[1])


# --- Caddy ---------------------------------------------------------------------------------

CADDY = shutil.which("caddy")


@pytest.fixture
def caddy(served: Served, tmp_path: Path) -> Iterator[int]:
    if CADDY is None:
        pytest.skip("caddy is not installed (apt-get install caddy; .ci/run does)")
    port = free_port()
    shipped = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    text = _substitute(shipped, [
        # the site on a loopback port with the test's certificate instead of ACME
        (f"\n{HOST} {{\n",
         f"\nhttps://{HOST}:{port} {{\n\tbind 127.0.0.1\n\ttls {served.cert} {served.key}\n"),
        ("reverse_proxy 127.0.0.1:8000", f"reverse_proxy 127.0.0.1:{served.port}"),
    ])
    # global options: no admin endpoint (port 2019) and no http->https redirect server on
    # port 80, which a shared test machine may not give
    config = tmp_path / "Caddyfile"
    config.write_text("{\n\tadmin off\n\tauto_https disable_redirects\n}\n" + text,
                      encoding="utf-8")
    home = tmp_path / "caddy-home"
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CONFIG_HOME": str(home / "config")}
    proc = subprocess.Popen([CADDY, "run", "--config", str(config), "--adapter", "caddyfile"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_port(port, proc, "caddy")
        yield port
    finally:
        _stop(proc)


def test_caddy_as_shipped_serves_the_one_click_post_signed_with_the_previous_secret(
        served, caddy):
    _check_proxy(served, caddy, served.mails[2])


# --- systemd -------------------------------------------------------------------------------

def test_the_systemd_unit_is_valid_and_hardened(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    shipped = (DEPLOY / "newsletter.service").read_text(encoding="utf-8")
    for needed in ("User=newsletter", "EnvironmentFile=/etc/newsletter/newsletter.env",
                   "serve --host 127.0.0.1 --port 8000", "NoNewPrivileges=true",
                   "ProtectSystem=strict", "NEWSLETTER_SECRET_PREVIOUS"):
        assert needed in shipped, needed
    # verify wants the program to exist: the one of this test run instead of /opt's
    unit = tmp_path / "newsletter.service"
    unit.write_text(_substitute(shipped, [("/opt/newsletter/bin/newsletter", str(NEWSLETTER))]),
                    encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_readme_shows_the_shipped_files():
    """What the README shows of deploy/ is the files' text, so a copy from the README
    is what the tests above ran."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in ("nginx.conf", "Caddyfile", "newsletter.service"):
        shown = re.search(rf"\(`deploy/{re.escape(name)}`.*?```[a-z]*\n(.*?)```", readme, re.S)
        assert shown is not None, f"README shows no deploy/{name}"
        body = (DEPLOY / name).read_text(encoding="utf-8")
        # all of it, except the comments at the top (the README says that in prose)
        config = re.sub(r"\A(?:#.*\n|\n)*", "", body)
        assert shown.group(1) == config, f"README's copy of deploy/{name} differs from it"
    assert "proxy_pass http://127.0.0.1:8000/;" not in readme
    assert "handle_path /newsletter/app/" not in readme


# --- a proxy that strips the path, in the app itself -----------------------------------------

def test_a_stripped_path_gets_the_public_links_redirects_and_cookie(ws, monkeypatch):
    """Requests without /newsletter/app/ (a stripping proxy) reach the same pages, and
    everything the browser is told names the public path it sees."""
    from newsletter.app import accounts
    from newsletter.web import create_app
    from tests.admin import SAME_ORIGIN, browser

    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)
    accounts.add_user(ws, "leyla", "officer", (), PASSWORD)
    client = browser(create_app(ws))
    page = client.get("/subscribe")
    assert page.status_code == 200 and f'action="{BASE}subscribe' in page.text
    assert client.get("/").headers["location"] == f"{BASE}subscribe"
    assert client.get("/admin/").headers["location"].startswith(f"{BASE}admin/login?next=")
    done = client.post("/admin/login", data={"username": "leyla", "password": PASSWORD},
                       headers=SAME_ORIGIN)
    assert done.status_code == 303 and done.headers["location"] == f"{BASE}admin/"
    cookie = done.headers["set-cookie"]
    assert f"Path={BASE}admin/" in cookie and "Secure" in cookie
    # the browser sends the cookie to the public path; a stripping proxy passes it on
    sent = {"cookie": cookie.split(";")[0]}
    assert client.get("/admin/", headers=sent).status_code == 200
    # the same pages under the public path, as before
    assert client.get(f"{BASE}subscribe").status_code == 200
    assert client.get("/newsletter/other").status_code == 404


# --- the local trial -----------------------------------------------------------------------

def test_serve_local_prints_addresses_that_answer_and_warns_of_an_unlisted_state_secret(
        tmp_path, monkeypatch):
    root = copy_workspace(tmp_path / "ws")
    env = {k: v for k, v in os.environ.items()
           if k not in ("NEWSLETTER_SECRET", "NEWSLETTER_SECRET_PREVIOUS",
                        "NEWSLETTER_DATABASE_URL")}
    # what `make demo` leaves: links signed with state/secret
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)
    monkeypatch.delenv("NEWSLETTER_SECRET_PREVIOUS", raising=False)
    load_signer(root / "state", allow_state_secret=True)
    port = free_port()
    env["NEWSLETTER_SECRET"] = NEW  # then started "as documented"
    proc = subprocess.Popen([*CLI, "-w", str(root), "serve", "--local",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)] if proc.stdout else []
        _wait_for_port(port, proc, "newsletter serve --local")
        found = dict(re.findall(r"^(Sign-up page|Admin login): +(\S+)", "".join(lines), re.M))
        local = f"http://127.0.0.1:{port}{BASE}"
        assert found == {"Sign-up page": f"{local}subscribe",
                         "Admin login": f"{local}admin/login"}, lines
        with httpx.Client(timeout=20) as client:
            for url in found.values():
                assert client.get(url).status_code == 200, url
            # the bare address uvicorn prints leads to the sign-up page
            assert client.get(f"http://127.0.0.1:{port}/",
                              follow_redirects=True).url == found["Sign-up page"]
            # a sign-up from the page: same-site for the check, links to this machine
            form = {"email": "nina@example.org", "language": "uk", "consent": "yes",
                    "lang": "de", "website": ""}
            signed = client.post(found["Sign-up page"], data=form,
                                 headers={"origin": f"http://127.0.0.1:{port}"})
            assert signed.status_code == 200
        # the mail is written after the answer (a sign-up takes the same time whether the
        # address is new or not): wait for it as a reader would
        deadline = time.monotonic() + 20
        while not (mails := list((root / "outbox" / "confirmations").glob("*.eml"))):
            assert time.monotonic() < deadline, "no confirmation mail in outbox/confirmations/"
            time.sleep(0.05)
        (mail,) = mails
        text = message_from_bytes(mail.read_bytes(), policy=policy.default)
        links = re.findall(r"https?://\S+", text.get_body(("plain",)).get_content())
        confirm = [u for u in links if "/confirm?t=" in u]
        assert confirm and confirm[0].startswith(f"{local}confirm?t="), links
        with httpx.Client(timeout=20) as client:
            assert client.get(confirm[0]).status_code == 200
    finally:
        _stop(proc)
    stderr = proc.stderr.read() if proc.stderr else ""
    warning = [line for line in stderr.splitlines() if "state/secret" in line]
    assert len(warning) == 1, stderr
    assert "will be refused" in warning[0] and "NEWSLETTER_SECRET_PREVIOUS" in warning[0]
    assert NEW not in stderr and (root / "state" / "secret").read_text().strip() not in stderr


def test_no_warning_when_the_state_secret_is_kept_as_a_previous_one(tmp_path, monkeypatch):
    root = copy_workspace(tmp_path / "ws")
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)
    monkeypatch.delenv("NEWSLETTER_SECRET_PREVIOUS", raising=False)
    load_signer(root / "state", allow_state_secret=True)
    monkeypatch.setenv("NEWSLETTER_SECRET", NEW)
    ws = load_workspace(root)
    assert len(serving.start_checks(ws)) == 1
    monkeypatch.setenv("NEWSLETTER_SECRET_PREVIOUS",
                       (root / "state" / "secret").read_text().strip())
    assert serving.start_checks(ws) == []


def test_serve_local_refuses_another_host(tmp_path):
    root = copy_workspace(tmp_path / "ws")
    done = CliRunner().invoke(cli, ["-w", str(root), "serve", "--local", "--host", "192.0.2.1"])
    assert done.exit_code == 2 and "127.0.0.1 only" in done.output


def test_users_add_prints_the_local_login_too(tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)
    root = copy_workspace(tmp_path / "ws")
    done = CliRunner().invoke(cli, ["-w", str(root), "users", "add", "leyla", "--role",
                                    "officer"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert f"https://{HOST}{BASE}admin/login" in done.output
    assert f"http://127.0.0.1:8000{BASE}admin/login" in done.output
    assert PASSWORD not in done.output
