"""Logins: staff of an agency, IOC operators, administrators; the rules of a real account."""

from __future__ import annotations

from dataclasses import dataclass

from services.routing.domain.errors import AccountRefused
from services.routing.domain.jurisdiction import Jurisdiction

OPERATOR = "operator"
ADMIN = "admin"
STAFF = "staff"
SCOPES = frozenset({STAFF, OPERATOR, ADMIN})
MIN_PASSWORD = 12
DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class Account:
    """A login as listed to admins (its password hash is kept apart, by the store)."""

    username: str
    scopes: list[str]
    agency_id: str | None
    demo: bool = False


@dataclass(frozen=True)
class Credentials:
    """What a login is checked against: the account, its password hash, and its token version
    (raised by every change of the account, so that tokens issued before it are refused)."""

    account: Account
    password_hash: str
    token_version: int = 0


def demo_accounts(j: Jurisdiction) -> list[Account]:
    """Development only: one staff login per agency (username = agency id), plus operator
    and admin (the demo admin is an operator too)."""
    wanted = [Account(a.id, [STAFF], a.id, demo=True) for a in j.agencies]
    return [
        *wanted,
        Account(OPERATOR, [OPERATOR], None, demo=True),
        Account(ADMIN, [ADMIN, OPERATOR], None, demo=True),
    ]


def check_account(account: Account, password: str, agencies: set[str]) -> None:
    """The rules of a real (non-demo) account; raises `AccountRefused` with the reason."""
    scopes = account.scopes
    if len(password) < MIN_PASSWORD:
        raise AccountRefused(f"password must have at least {MIN_PASSWORD} characters")
    if not scopes or not set(scopes) <= SCOPES:
        raise AccountRefused(f"scopes must be a non-empty subset of {sorted(SCOPES)}")
    if STAFF in scopes and account.agency_id not in agencies:
        raise AccountRefused("a staff account needs the id of an existing agency")
    if STAFF not in scopes and account.agency_id is not None:
        raise AccountRefused("only staff accounts are bound to an agency")
    reserved = {OPERATOR, ADMIN} | agencies
    if account.username in reserved and STAFF in scopes and account.username != account.agency_id:
        raise AccountRefused("that username is reserved")
