"""A real IMAP server for tests: Debian's dovecot, run in the foreground with a throwaway
configuration (127.0.0.1, a free port, one user with a plain password, maildir in a
temporary folder, its own base and state folders, a log file).

As root, dovecot drops to its system users (dovecot, dovenull), so the folder lives
in /tmp, readable by them, and the maildir belongs to the dovecot user. As anyone
else it runs every process as that user, without chroot.
"""

from __future__ import annotations

import contextlib
import getpass
import grp
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import trustme

from tests.fake_smtp import free_port

SBIN = os.pathsep.join(["/usr/sbin", "/sbin", "/usr/local/sbin"])
DOVECOT = shutil.which("dovecot", path=os.environ.get("PATH", "") + os.pathsep + SBIN)
USER = "abmelden"
PASSWORD = "Pässwort-123"  # not ASCII: the login has to carry UTF-8  # noqa: S105
DH = Path("/usr/share/dovecot/dh.pem")


class Dovecot:
    """``with Dovecot(security="none"|"tls"|"starttls") as server``: server.port, .ca_file."""

    def __init__(self, security: str = "none"):
        self.security = security
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
        self.ca_file = self.dir / "ca.pem"
        self.log = self.dir / "dovecot.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Dovecot:
        self.dir.chmod(0o755)
        conf = self._write_config()
        with (self.dir / "stdout.log").open("wb") as out:
            self.proc = subprocess.Popen([str(DOVECOT), "-F", "-c", str(conf)], stdout=out,
                                         stderr=subprocess.STDOUT)
        self._wait()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in
                         (self.dir / "stdout.log", self.log) if p.exists())

    def _write_config(self) -> Path:
        mail = self.dir / "mail"
        mail.mkdir()
        if os.geteuid() == 0:
            user = pwd.getpwnam("dovecot")
            os.chown(mail, user.pw_uid, user.pw_gid)
            identity, chroot = "mail_uid = dovecot\nmail_gid = dovecot\n", ""
        else:
            me, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
            identity = (f"mail_uid = {os.getuid()}\nmail_gid = {os.getgid()}\n"
                        f"default_internal_user = {me}\ndefault_login_user = {me}\n"
                        f"default_internal_group = {group}\n")
            chroot = "  chroot =\n"  # only root may chroot
        users = self.dir / "users"
        users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::{mail}/{USER}\n", encoding="utf-8")
        users.chmod(0o644)
        conf = self.dir / "dovecot.conf"
        conf.write_text(f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log}
auth_failure_delay = 0
auth_mechanisms = plain login
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
first_valid_uid = 1
{identity}{self._ssl()}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
service anvil {{  # no growing delay for logins after the wrong-password test
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
{chroot}  inet_listener imap {{
    port = {0 if self.security == "tls" else self.port}
  }}
  inet_listener imaps {{
    port = {self.port if self.security == "tls" else 0}
  }}
}}
""", encoding="utf-8")
        conf.chmod(0o644)
        return conf

    def _ssl(self) -> str:
        if self.security == "none":
            return "ssl = no\n"
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(self.ca_file))
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.cert_chain_pems[0].write_to_path(str(self.dir / "cert.pem"))
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(str(self.dir / "cert.pem"), append=True)
        cert.private_key_pem.write_to_path(str(self.dir / "key.pem"))
        dh = f"ssl_dh = <{DH}\n" if DH.exists() else ""
        return (f"ssl = required\nssl_cert = <{self.dir}/cert.pem\n"
                f"ssl_key = <{self.dir}/key.pem\n{dh}")

    def _wait(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"dovecot did not start:\n{self.logs()}")

    # --- what a test does with the mailbox ---------------------------------------------

    def client(self) -> imaplib.IMAP4:
        """A logged-in session as the test user (TLS trusted through the test CA)."""
        if self.security == "tls":
            ctx = ssl.create_default_context(cafile=str(self.ca_file))
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ctx,
                                                    timeout=10)
        else:
            conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
            if self.security == "starttls":
                conn.starttls(ssl.create_default_context(cafile=str(self.ca_file)))
        secret = f"\0{USER}\0{PASSWORD}".encode()
        conn.authenticate("PLAIN", lambda _: secret)
        return conn

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        conn = self.client()
        try:
            for message in messages:
                typ, data = conn.append(folder, None, None, message)
                assert typ == "OK", data
        finally:
            conn.logout()

    def flags(self, folder: str = "INBOX") -> list[str]:
        """The flags of every mail in ``folder``, oldest first."""
        conn = self.client()
        try:
            typ, data = conn.select(folder, readonly=True)
            assert typ == "OK", folder
            if data[0] == b"0":
                return []
            typ, data = conn.fetch("1:*", "(FLAGS)")
            return [item.decode() for item in data if isinstance(item, bytes)]
        finally:
            conn.logout()

    def mark_all_unread(self, folder: str = "INBOX") -> None:
        conn = self.client()
        try:
            conn.select(folder)
            conn.store("1:*", "-FLAGS.SILENT", r"(\Seen)")
        finally:
            conn.logout()

    def clear(self) -> None:
        """An empty INBOX and no other folder: a fresh mailbox for the next test."""
        conn = self.client()
        try:
            _, folders = conn.list()
            for line in folders:
                name = line.decode().rsplit(" ", 1)[-1].strip('"') if line else ""
                if name and name != "INBOX":
                    conn.delete(name)
            _, count = conn.select("INBOX")
            if count[0] != b"0":
                conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                conn.expunge()
        finally:
            conn.logout()
