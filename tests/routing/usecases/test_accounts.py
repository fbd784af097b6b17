"""Logins over fakes: the password check and the rules of real accounts."""

from __future__ import annotations

import pytest

from services.routing.domain.errors import AccountRefused, InvalidCredentials, NoSuchAccount
from shared.events import AccountChangedV1, Topic
from tests.routing.fakes import Routing

PASSWORD = "a-long-password"
CLIENT = "203.0.113.7"


async def test_a_valid_login_gives_its_scopes_and_agency() -> None:
    r = Routing()
    await r.accounts.put("lan", PASSWORD, ["staff"], "phu-hoi-ward")
    p = await r.accounts.authenticate("lan", PASSWORD, CLIENT)
    assert (p.sub, p.scopes, p.agency_id) == ("lan", ["staff"], "phu-hoi-ward")


async def test_a_wrong_password_is_refused() -> None:
    r = Routing()
    await r.accounts.put("lan", PASSWORD, ["staff"], "phu-hoi-ward")
    with pytest.raises(InvalidCredentials):
        await r.accounts.authenticate("lan", "nope", CLIENT)


async def test_an_unknown_user_is_refused() -> None:
    with pytest.raises(InvalidCredentials):
        await Routing().accounts.authenticate("ghost", PASSWORD, CLIENT)


async def test_demo_logins_are_refused_in_production() -> None:
    dev = Routing()
    await dev.accounts.seed_demo(dev.jurisdictions.current())
    prod = Routing(account_store=dev.account_store, demo_logins=False)
    assert (await dev.accounts.authenticate("ioc", "demo", CLIENT)).agency_id == "ioc"
    with pytest.raises(InvalidCredentials):
        await prod.accounts.authenticate("ioc", "demo", CLIENT)


async def test_a_short_password_is_refused() -> None:
    r = Routing()
    with pytest.raises(AccountRefused, match="12 characters"):
        await r.accounts.put("lan", "short", ["operator"], None)
    assert r.account_store.rows == {}


async def test_staff_must_name_an_existing_agency() -> None:
    with pytest.raises(AccountRefused, match="existing agency"):
        await Routing().accounts.put("lan", PASSWORD, ["staff"], "nowhere")


async def test_the_bootstrap_admin_is_an_operator_too() -> None:
    r = Routing()
    await r.accounts.bootstrap_admin("root", PASSWORD)
    assert (await r.accounts.authenticate("root", PASSWORD, CLIENT)).scopes == ["admin", "operator"]


async def test_deleting_an_unknown_login_is_not_found() -> None:
    with pytest.raises(NoSuchAccount):
        await Routing().accounts.delete("ghost")


async def test_every_change_of_a_login_raises_its_token_version() -> None:
    r = Routing()
    await r.accounts.put("lan", PASSWORD, ["staff"], "phu-hoi-ward")
    first = await r.accounts.authenticate("lan", PASSWORD, CLIENT)
    await r.accounts.put("lan", PASSWORD, ["operator"], None)
    second = await r.accounts.authenticate("lan", PASSWORD, CLIENT)
    await r.accounts.delete("lan")
    assert (first.token_version, second.token_version) == (1, 2)
    assert r.revoked == [("lan", 1), ("lan", 2), ("lan", 3)]


async def test_an_unchanged_bootstrap_admin_is_left_alone_at_a_restart() -> None:
    r = Routing()
    await r.accounts.bootstrap_admin("root", PASSWORD)
    await r.accounts.bootstrap_admin("root", PASSWORD)
    await r.accounts.bootstrap_admin("root", PASSWORD + "!")
    assert r.revoked == [("root", 1), ("root", 2)]


async def test_a_deleted_demo_login_is_not_made_again() -> None:
    r = Routing()
    await r.accounts.seed_demo(r.jurisdictions.current())
    await r.accounts.delete("ioc")
    await r.accounts.seed_demo(r.jurisdictions.current())
    with pytest.raises(InvalidCredentials):
        await r.accounts.authenticate("ioc", "demo", CLIENT)


def _announced(r: Routing) -> list[tuple[str, int, int]]:
    """(subject, sequence, token version) of the committed `auth.account_changed` events."""
    events = r.tx.of_type(Topic.ACCOUNT_CHANGED)
    return [(e.subject, e.sequence, e.payload(AccountChangedV1).token_version) for e in events]


async def test_every_change_of_a_login_is_announced_with_its_version() -> None:
    r = Routing()
    await r.accounts.put("lan", PASSWORD, ["staff"], "phu-hoi-ward")
    await r.accounts.put("lan", PASSWORD, ["operator"], None)
    await r.accounts.delete("lan")
    assert _announced(r) == [("lan", 1, 1), ("lan", 2, 2), ("lan", 3, 3)]


async def test_the_announcement_carries_no_scopes_agency_or_password() -> None:
    r = Routing()
    await r.accounts.put("lan", PASSWORD, ["staff"], "phu-hoi-ward")
    (event,) = r.tx.of_type(Topic.ACCOUNT_CHANGED)
    assert set(event.data) == {"username", "token_version", "changed_at"}


async def test_only_a_changed_bootstrap_admin_is_announced() -> None:
    r = Routing()
    await r.accounts.bootstrap_admin("root", PASSWORD)
    await r.accounts.bootstrap_admin("root", PASSWORD)
    await r.accounts.bootstrap_admin("root", PASSWORD + "!")
    assert _announced(r) == [("root", 1, 1), ("root", 2, 2)]


async def test_deleting_an_unknown_login_announces_nothing() -> None:
    r = Routing()
    with pytest.raises(NoSuchAccount):
        await r.accounts.delete("ghost")
    assert (_announced(r), r.tx.rollbacks) == ([], 1)
