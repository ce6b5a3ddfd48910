"""The receiver's check: a good signature passes; tampering, a wrong secret, an old or
future timestamp and a malformed header are refused with their code."""

from __future__ import annotations

import pytest

from runtime.webhooks.signing import signature_header
from runtime.webhooks.verify import SignatureError, verify

BODY = b'{"id":"e1","type":"call.completed","data":{"outcome":"confirmed"}}'
SECRET = "whsec_test"
NOW = 1_800_000_000


def test_a_signature_made_by_the_sender_verifies() -> None:
    header = signature_header(BODY, SECRET, NOW)
    assert verify(BODY, header, SECRET, now=NOW + 10) == NOW


@pytest.mark.parametrize(
    ("body", "secret", "now", "code"),
    [
        (BODY.replace(b"confirmed", b"declined"), SECRET, NOW, "mismatch"),
        (BODY + b" ", SECRET, NOW, "mismatch"),
        (BODY, "whsec_other", NOW, "mismatch"),
        (BODY, SECRET, NOW + 301, "expired"),
        (BODY, SECRET, NOW - 301, "expired"),
    ],
    ids=["tampered", "appended", "wrong-secret", "replayed-late", "from-the-future"],
)
def test_verification_refuses(body: bytes, secret: str, now: int, code: str) -> None:
    header = signature_header(BODY, SECRET, NOW)
    with pytest.raises(SignatureError) as caught:
        verify(body, header, secret, now=now)
    assert caught.value.code == code


def test_a_changed_timestamp_breaks_the_signature() -> None:
    header = signature_header(BODY, SECRET, NOW).replace(f"t={NOW}", f"t={NOW + 100}")
    with pytest.raises(SignatureError) as caught:
        verify(BODY, header, SECRET, now=NOW + 100)
    assert caught.value.code == "mismatch"


@pytest.mark.parametrize("header", ["", "v1=abc", f"t={NOW}", "t=soon,v1=abc", "garbage"])
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(SignatureError) as caught:
        verify(BODY, header, SECRET, now=NOW)
    assert caught.value.code == "malformed"


def test_any_of_several_signatures_may_match() -> None:
    good = signature_header(BODY, SECRET, NOW).split(",")[1]
    assert verify(BODY, f"t={NOW},v1={'0' * 64},{good}", SECRET, now=NOW) == NOW


def test_the_tolerance_is_the_receivers_choice() -> None:
    header = signature_header(BODY, SECRET, NOW)
    assert verify(BODY, header, SECRET, tolerance_s=3600, now=NOW + 3000) == NOW
