from __future__ import annotations

import base64
import stat

import pytest

from newsletter.audience.tokens import PREVIOUS_ENV, SECRET_ENV, Signer
from newsletter.delivery.keys import cached_signer, load_signer, unlisted_state_secret
from newsletter.errors import SecretError, StateError
from newsletter.workspace.state import ADDRESS_KEY

SIGNER = Signer(b"0123456789abcdef0123456789abcdef", b"address-key-0123456789abcdef", "test")


def test_token_round_trip_and_is_short_and_opaque():
    token = SIGNER.unsubscribe_token("Ayse.Korkmaz@example.org")
    assert len(token) == 28
    assert SIGNER.verify(token) == SIGNER.recipient_id("ayse.korkmaz@example.org")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"ayse" not in raw.lower() and b"example" not in raw


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),   # altered MAC
    lambda t: t[:3] + ("A" if t[3] != "A" else "B") + t[4:],  # altered recipient id
    lambda t: t[:-2],  # truncated
    lambda t: t + "AAAA",  # extended
    lambda t: "not a token!",
    lambda t: "",
])
def test_tampered_tokens_are_rejected(mutate):
    token = SIGNER.unsubscribe_token("a@example.org")
    assert SIGNER.verify(mutate(token)) is None


def test_token_from_another_secret_is_rejected():
    other = Signer(b"another secret value, long enough", b"address-key-0123456789abcdef", "test")
    assert SIGNER.verify(other.unsubscribe_token("a@example.org")) is None


def test_secret_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(SECRET_ENV, "x" * 40)
    signer = load_signer(tmp_path / "state", allow_state_secret=False)
    assert signer.origin == "environment" and "x" * 10 not in repr(signer)
    assert not (tmp_path / "state" / "secret").exists()
    assert stat.S_IMODE((tmp_path / "state" / "address.key").stat().st_mode) == 0o600
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(SecretError, match="too short"):
        load_signer(tmp_path / "state", allow_state_secret=True)


def test_outbox_may_use_a_private_state_secret(monkeypatch, tmp_path):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    first = load_signer(tmp_path / "state", allow_state_secret=True)
    path = tmp_path / "state" / "secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_signer(tmp_path / "state", allow_state_secret=True)
    assert first.unsubscribe_token("a@example.org") == again.unsubscribe_token("a@example.org")
    path.chmod(0o644)
    with pytest.raises(SecretError, match="readable by others"):
        load_signer(tmp_path / "state", allow_state_secret=True)


def test_real_transports_refuse_without_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(SecretError, match="set NEWSLETTER_SECRET"):
        load_signer(tmp_path / "state", allow_state_secret=False)


def test_rotating_the_secret_keeps_recipient_ids(monkeypatch, tmp_path):
    monkeypatch.setenv(SECRET_ENV, "first-secret-" + "x" * 30)
    first = load_signer(tmp_path / "state", allow_state_secret=False)
    monkeypatch.setenv(SECRET_ENV, "second-secret-" + "y" * 30)
    second = load_signer(tmp_path / "state", allow_state_secret=False)
    assert first.recipient_id("a@example.org") == second.recipient_id("A@example.org")
    assert second.verify(first.unsubscribe_token("a@example.org")) is None  # MAC rotated


OLD = "old-secret-" + "o" * 30
NEW = "new-secret-" + "n" * 30


def test_previous_secrets_verify_old_links_and_never_sign(monkeypatch, tmp_path):
    state = tmp_path / "state"
    monkeypatch.setenv(SECRET_ENV, OLD)
    monkeypatch.delenv(PREVIOUS_ENV, raising=False)
    old = load_signer(state, allow_state_secret=False)
    rid = old.recipient_id("a@example.org")
    old_links = {"unsubscribe": old.unsubscribe_token("a@example.org"),
                 "confirm": old.token("confirm", rid, now=1_000_000),
                 "preferences": old.token("preferences", rid, now=1_000_000)}
    monkeypatch.setenv(SECRET_ENV, NEW)
    rotated = load_signer(state, allow_state_secret=False)
    for purpose, token in old_links.items():  # without the old secret: refused
        assert rotated.check(purpose, token, now=1_000_060) is None, purpose
    monkeypatch.setenv(PREVIOUS_ENV, f" another-old-secret-{'a' * 20} , {OLD},")
    kept = load_signer(state, allow_state_secret=False)
    for purpose, token in old_links.items():
        assert kept.check(purpose, token, now=1_000_060) == rid, purpose
        # a previous secret does not make a token of one purpose valid for another
        assert kept.check("preferences" if purpose == "confirm" else "confirm", token,
                          now=1_000_060) is None
    # new tokens: always the current secret, whatever the previous ones are
    assert kept.unsubscribe_token("a@example.org") == rotated.unsubscribe_token("a@example.org")
    assert kept.token("confirm", rid, now=5) == rotated.token("confirm", rid, now=5)
    assert old.verify(kept.unsubscribe_token("a@example.org")) is None
    assert OLD[:12] not in repr(kept) and "previous" not in repr(kept)


@pytest.mark.parametrize("value", ["s3cr3t", f"{'p' * 40},t1ny"])
def test_a_short_previous_secret_is_refused_without_showing_it(monkeypatch, tmp_path, value):
    monkeypatch.setenv(SECRET_ENV, NEW)
    monkeypatch.setenv(PREVIOUS_ENV, value)
    with pytest.raises(SecretError, match=PREVIOUS_ENV) as err:
        load_signer(tmp_path / "state", allow_state_secret=False)
    assert "too short" in str(err.value) and value.split(",")[-1] not in str(err.value)
    assert "p" * 16 not in str(err.value)
    monkeypatch.delenv(SECRET_ENV)  # the outbox's own secret: the same rule
    with pytest.raises(SecretError, match=PREVIOUS_ENV):
        load_signer(tmp_path / "state", allow_state_secret=True)


def test_the_cached_signer_follows_the_previous_secrets(monkeypatch, tmp_path):
    state = tmp_path / "state"
    monkeypatch.setenv(SECRET_ENV, OLD)
    monkeypatch.delenv(PREVIOUS_ENV, raising=False)
    token = load_signer(state, allow_state_secret=False).unsubscribe_token("a@example.org")
    monkeypatch.setenv(SECRET_ENV, NEW)
    assert cached_signer(state, allow_state_secret=False).verify(token) is None
    monkeypatch.setenv(PREVIOUS_ENV, OLD)
    assert cached_signer(state, allow_state_secret=False).verify(token) is not None


def test_a_state_secret_left_out_of_the_rotation_is_noticed(monkeypatch, tmp_path):
    state = tmp_path / "state"
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv(PREVIOUS_ENV, raising=False)
    load_signer(state, allow_state_secret=True)  # an outbox rehearsal: state/secret made
    assert not unlisted_state_secret(state)  # without the variable it is the secret in use
    monkeypatch.setenv(SECRET_ENV, NEW)
    assert unlisted_state_secret(state)
    monkeypatch.setenv(PREVIOUS_ENV, (state / "secret").read_text().strip())
    assert not unlisted_state_secret(state)
    monkeypatch.delenv(PREVIOUS_ENV)
    monkeypatch.setenv(SECRET_ENV, (state / "secret").read_text().strip())
    assert not unlisted_state_secret(state)


def test_the_cached_signer_follows_the_variable_and_the_key_file(monkeypatch, tmp_path):
    """The web app loads the signer once, but never keeps one whose material changed."""
    monkeypatch.setenv(SECRET_ENV, "first-secret-" + "x" * 30)
    state = tmp_path / "state"
    load_signer(state, allow_state_secret=False)  # the key and the ledger made
    first = cached_signer(state, allow_state_secret=False)
    assert cached_signer(state, allow_state_secret=False) is first
    monkeypatch.setenv(SECRET_ENV, "second-secret-" + "y" * 30)
    second = cached_signer(state, allow_state_secret=False)
    assert second.key != first.key and second.address_key == first.address_key
    key = state / ADDRESS_KEY  # replaced: the ledger refuses it, the cache does not hide it
    key.unlink()
    key.write_bytes(b"another-address-key-0123456789abcdef\n")
    key.chmod(0o600)
    with pytest.raises(StateError, match="not the one ledger"):
        cached_signer(state, allow_state_secret=False)
