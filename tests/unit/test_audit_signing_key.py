"""The audit service's Ed25519 signing key (C22): refused when missing or public outside development
mode; its signatures verify with the public key alone."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.checkpoints import Verifier
from services.audit.dependencies import (
    CHECKPOINT_KEY,
    KeyRefused,
    Notary,
    checkpoint_path,
    development_key,
    signing_key,
)


def pem(key: Ed25519PrivateKey) -> str:
    encoded = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return encoded.decode()


@pytest.mark.parametrize("dev_mode", ["false", "", None, "0"])
def test_C22_without_a_key_the_audit_service_refuses_to_start_outside_development_mode(dev_mode):
    with pytest.raises(KeyRefused, match=CHECKPOINT_KEY):
        signing_key({CHECKPOINT_KEY: "", "DEV_MODE": dev_mode})


def test_C22_the_public_development_key_is_refused_outside_development_mode():
    with pytest.raises(KeyRefused, match="development key"):
        signing_key({CHECKPOINT_KEY: pem(development_key()), "DEV_MODE": "false"})


@pytest.mark.parametrize("given", ["casewire-local-audit-checkpoint-key-change-me", "not a key"])
def test_C22_a_key_that_is_no_ed25519_pem_is_refused(given):
    with pytest.raises(KeyRefused):
        signing_key({CHECKPOINT_KEY: given, "DEV_MODE": "true"})


def test_development_mode_signs_with_the_development_key_and_an_own_key_is_used_everywhere():
    development = Verifier(development_key().public_key()).key_id
    assert Verifier(signing_key({"DEV_MODE": "1"}).public_key()).key_id == development
    own = Ed25519PrivateKey.generate()
    chosen = signing_key({CHECKPOINT_KEY: pem(own), "DEV_MODE": "false"})
    assert Verifier(chosen.public_key()).key_id == Verifier(own.public_key()).key_id


def test_C22_a_signed_checkpoint_verifies_with_the_public_key_alone_and_any_change_breaks_it():
    notary = Notary(Ed25519PrivateKey.generate())
    checkpoint = notary.sign({"number": 3, "seq": 120, "hash": "ab" * 32, "at": "2027-03-01T12:00:00.000Z"})
    auditor = Verifier.from_pem(notary.public_pem())
    assert "hmac" not in checkpoint and auditor.authentic(checkpoint)
    assert not auditor.authentic({**checkpoint, "seq": 121})
    assert not auditor.authentic({**checkpoint, "signature": "AAAA"})
    assert not Verifier(Ed25519PrivateKey.generate().public_key()).authentic(checkpoint)


def test_the_checkpoint_file_is_one_per_audit_log_beside_the_archive_unless_named():
    config = {"AUDIT_ARCHIVE_DIR": "/var/lib/casewire/audit-archive", "MONGODB_DATABASE": "casewire_audit"}
    assert str(checkpoint_path(config)) == "/var/lib/casewire/audit-archive/checkpoints-casewire_audit.jsonl"
    assert (
        str(checkpoint_path({**config, "AUDIT_CHECKPOINT_FILE": "/worm/checkpoints.jsonl"}))
        == "/worm/checkpoints.jsonl"
    )
