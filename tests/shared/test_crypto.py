import pytest
from cryptography.exceptions import InvalidTag

from shared.crypto import PiiBox
from shared.settings import DEV_PII_KEY

CONTACT = {"name": "Nguyễn Văn A", "email": "a@example.org", "phone": "+84 90 000 0000"}


def test_sealed_contact_opens_with_the_same_key_and_context() -> None:
    box = PiiBox(DEV_PII_KEY)
    assert box.open(box.seal(CONTACT, aad="r1"), aad="r1") == CONTACT


def test_sealed_contact_is_not_readable_in_transit() -> None:
    sealed = PiiBox(DEV_PII_KEY).seal(CONTACT, aad="r1")
    assert "example.org" not in sealed
    assert "Nguy" not in sealed


def test_sealed_contact_refuses_another_report_context() -> None:
    box = PiiBox(DEV_PII_KEY)
    with pytest.raises(InvalidTag):
        box.open(box.seal(CONTACT, aad="r1"), aad="r2")


def test_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PiiBox("c2hvcnQ=")
