"""The end-of-run checker: nothing lost, nothing doubled, the services agree.

`check(...)` is pure (plain dicts and lists in, verdicts out) so it is tested without a server;
`gather(...)` reads what it needs from the four databases (read-only) and analytics' HTTP API.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from pymongo import AsyncMongoClient

# Routing's assignment states and the public status intake shows for each. Intake may be ahead
# (closed after a rating, which routing does not track) but never disagree otherwise.
PUBLIC_STATUS_OF = {
    "assigned": {"assigned"},
    "accepted": {"assigned", "in_progress"},
    "in_progress": {"in_progress"},
    "resolved": {"resolved", "closed"},
    "rejected": {"rejected"},
    "duplicate": {"duplicate"},
}


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    checked: int
    bad: int
    detail: str = ""

    def line(self) -> str:
        word = "PASS" if self.ok else "FAIL"
        extra = f" — {self.detail}" if self.detail else ""
        return f"{word}  {self.name}: {self.checked - self.bad}/{self.checked} ok{extra}"


def _sample(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (" ..." if len(items) > n else "")


def check(
    posted: list[str],
    assignments: list[dict[str, Any]],
    intake_status: dict[str, str],
    deliveries: list[dict[str, Any]],
    facts: set[str],
    intake_total: int,
    analytics_total: int | None,
    mail_per_address: dict[str, int] | None = None,
    sent_email_per_address: dict[str, int] | None = None,
    announced: dict[str, dict[str, int]] | None = None,
    distinct_mail_per_address: dict[str, int] | None = None,
) -> list[Verdict]:
    """Every report answered 201: one current assignment, intake agreeing with routing, one
    delivery per (event, recipient, channel), a fact in analytics whose total matches intake's;
    with `announced` ({event type: {report: events in its producer's outbox}}), one event of each
    type per report.

    Emails: with `distinct_mail_per_address` (emails per address counted once per delivery, from
    the Message-ID), a kill between a send and its record may resend one delivery's email (SMTP
    is at least once): each sent delivery must have arrived, and resends are counted apart;
    without it, every email must have arrived exactly once."""
    out: list[Verdict] = []
    per_report = Counter(a["report_id"] for a in assignments)
    bad = [r for r in posted if per_report.get(r, 0) != 1]
    out.append(
        Verdict(
            "exactly one current assignment per report (routing)",
            not bad,
            len(posted),
            len(bad),
            f"e.g. {_sample([f'{r}: {per_report.get(r, 0)}' for r in bad])}" if bad else "",
        )
    )
    state = {a["report_id"]: a.get("status") for a in assignments}
    bad = [
        f"{r}: intake {intake_status.get(r)} routing {state.get(r)}"
        for r in posted
        if intake_status.get(r) not in PUBLIC_STATUS_OF.get(str(state.get(r)), {state.get(r)})
    ]
    out.append(
        Verdict(
            "intake's status equals routing's state",
            not bad,
            len(posted),
            len(bad),
            f"e.g. {_sample(bad)}" if bad else "",
        )
    )
    keys = Counter(
        (d.get("event_id"), d.get("recipient_kind"), d.get("recipient_id"), d.get("channel"))
        for d in deliveries
    )
    doubled = [k for k, n in keys.items() if n > 1]
    out.append(
        Verdict(
            "exactly one delivery per (event, recipient, channel) (notify)",
            not doubled,
            len(keys),
            len(doubled),
            f"e.g. {_sample([str(k) for k in doubled])}" if doubled else "",
        )
    )
    assigned_delivery = {
        d["report_id"] for d in deliveries if d.get("event_type") == "report.assigned"
    }
    missing = [r for r in posted if r not in assigned_delivery]
    out.append(
        Verdict(
            "every report's assignment notified (notify)",
            not missing,
            len(posted),
            len(missing),
            f"e.g. {_sample(missing)}" if missing else "",
        )
    )
    missing = [r for r in posted if r not in facts]
    out.append(
        Verdict(
            "every report projected (analytics facts)",
            not missing,
            len(posted),
            len(missing),
            f"e.g. {_sample(missing)}" if missing else "",
        )
    )
    same = analytics_total == intake_total
    out.append(
        Verdict(
            "analytics total equals the reports stored in intake",
            same,
            1,
            0 if same else 1,
            f"analytics {analytics_total}, intake {intake_total}",
        )
    )
    for type_, per in sorted((announced or {}).items()):
        bad = [f"{r}: {per.get(r, 0)}" for r in posted if per.get(r, 0) != 1]
        out.append(
            Verdict(
                f"exactly one {type_} event per report (its producer's outbox)",
                not bad,
                len(posted),
                len(bad),
                f"e.g. {_sample(bad)}" if bad else "",
            )
        )
    if mail_per_address is not None:
        out += _mail_verdicts(
            posted, deliveries, mail_per_address, sent_email_per_address, distinct_mail_per_address
        )
    return out


def _mail_verdicts(
    posted: list[str],
    deliveries: list[dict[str, Any]],
    mail: dict[str, int],
    sent: dict[str, int] | None,
    distinct: dict[str, int] | None,
) -> list[Verdict]:
    """The emails: every resident email delivery sent, and what the mail sink received of them
    (once per delivery with `distinct`, else exactly once)."""
    out = [_resident_emails_sent(posted, deliveries)]
    if sent is not None and distinct is not None:
        out += _mail_at_least_once(mail, distinct, sent)
    elif sent is not None:
        bad = [
            f"{a}: {mail.get(a, 0)} mails, {n} sent" for a, n in sent.items() if mail.get(a, 0) != n
        ]
        out.append(
            Verdict(
                "each email notify sent arrived exactly once (mail sink)",
                not bad,
                len(sent),
                len(bad),
                f"e.g. {_sample(bad)}" if bad else "",
            )
        )
    return out


def _resident_emails(
    deliveries: list[dict[str, Any]], report_ids: Iterable[str]
) -> list[dict[str, Any]]:
    """The email deliveries to residents of these reports."""
    wanted = set(report_ids)
    return [
        d
        for d in deliveries
        if d.get("channel") == "email"
        and d.get("recipient_kind") == "resident"
        and d.get("report_id") in wanted
    ]


def _resident_emails_sent(posted: list[str], deliveries: list[dict[str, Any]]) -> Verdict:
    """With a mail sink that accepts everything, every resident email ends `sent`: one ended
    otherwise (dead, skipped) was never tried or was refused, and the mail checks alone would
    count it as nothing sent and nothing owed."""
    emails = _resident_emails(deliveries, posted)
    unsent = Counter(
        f"{d.get('status')} ({d.get('last_error')})" for d in emails if d.get("status") != "sent"
    )
    return Verdict(
        "every resident email delivery sent (notify)",
        not unsent,
        len(emails),
        sum(unsent.values()),
        ", ".join(f"{n} {what}" for what, n in unsent.most_common(5)),
    )


def _mail_at_least_once(
    total: dict[str, int], distinct: dict[str, int], sent: dict[str, int]
) -> list[Verdict]:
    bad = [
        f"{a}: {distinct.get(a, 0)} distinct mails, {n} sent"
        for a, n in sent.items()
        if distinct.get(a, 0) != n
    ]
    resent = sum(total.get(a, 0) - distinct.get(a, 0) for a in sent)
    return [
        Verdict(
            "each email delivery notify sent arrived, once per delivery (mail sink)",
            not bad,
            len(sent),
            len(bad),
            f"e.g. {_sample(bad)}" if bad else "",
        ),
        Verdict(
            "emails resent by a restarted notify (same delivery: SMTP is at least once)",
            True,
            sum(total.get(a, 0) for a in sent),
            0,
            f"{resent} resent",
        ),
    ]


async def gather(
    mongo: AsyncMongoClient[dict[str, Any]],
    db_names: dict[str, str],
    analytics_url: str,
    posted: list[str],
) -> dict[str, Any]:
    """Reads what `check` needs for the posted reports (chunks of 1,000 ids)."""
    assignments: list[dict[str, Any]] = []
    intake_status: dict[str, str] = {}
    deliveries: list[dict[str, Any]] = []
    facts: set[str] = set()
    routing = mongo[db_names["routing"]]["assignments"]
    reports = mongo[db_names["intake"]]["reports"]
    notify = mongo[db_names["notify"]]["deliveries"]
    analytics = mongo[db_names["analytics"]]["facts"]
    fields = {
        "event_id": 1,
        "recipient_kind": 1,
        "recipient_id": 1,
        "channel": 1,
        "report_id": 1,
        "event_type": 1,
        "status": 1,
        "recipient": 1,
        "last_error": 1,
    }
    for i in range(0, len(posted), 1000):
        chunk = posted[i : i + 1000]
        assignments += [
            d
            async for d in routing.find(
                {"report_id": {"$in": chunk}}, {"report_id": 1, "status": 1}
            )
        ]
        intake_status.update(
            {
                d["_id"]: d.get("status")
                async for d in reports.find({"_id": {"$in": chunk}}, {"status": 1})
            }
        )
        deliveries += [d async for d in notify.find({"report_id": {"$in": chunk}}, fields)]
        facts |= {d["_id"] async for d in analytics.find({"_id": {"$in": chunk}}, {"_id": 1})}
    announced = await _announced(mongo, db_names, posted)
    total = await reports.count_documents({})
    analytics_total: int | None = None
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            r = await client.get(analytics_url + "/api/v1/stats/summary")
            if r.status_code == 200:
                analytics_total = int(r.json().get("total"))
    except (httpx.HTTPError, ValueError, TypeError):
        analytics_total = None
    return {
        "assignments": assignments,
        "intake_status": intake_status,
        "deliveries": deliveries,
        "facts": facts,
        "intake_total": total,
        "analytics_total": analytics_total,
        "announced": announced,
    }


# Each report's first events and who writes them (the shared outbox: `type`, `subject`).
ANNOUNCED_BY = {"report.created": "intake", "report.assigned": "routing"}


async def _announced(
    mongo: AsyncMongoClient[dict[str, Any]], db_names: dict[str, str], posted: list[str]
) -> dict[str, dict[str, int]]:
    # One read of each outbox (no index serves a read by subject: the relay never needs one).
    wanted = set(posted)
    out: dict[str, dict[str, int]] = {}
    for type_, svc in ANNOUNCED_BY.items():
        cursor = mongo[db_names[svc]]["outbox"].find({"type": type_}, {"subject": 1})
        out[type_] = dict(Counter([d["subject"] async for d in cursor if d["subject"] in wanted]))
    return out


async def stored_report_ids(
    mongo: AsyncMongoClient[dict[str, Any]], db_names: dict[str, str]
) -> list[str]:
    """Every report intake stored (also those whose 201 never reached the client)."""
    reports = mongo[db_names["intake"]]["reports"]
    return [str(d["_id"]) async for d in reports.find({}, {"_id": 1})]


def sent_email_per_address(
    deliveries: list[dict[str, Any]], posted: Iterable[Any]
) -> dict[str, int]:
    """Resident emails notify marked sent, per address, for the posted reports (`.id`, `.email`)
    that gave one."""
    email_of = {p.id: p.email for p in posted if p.email}
    sent = dict.fromkeys(email_of.values(), 0)
    for d in _resident_emails(deliveries, email_of):
        if d.get("status") == "sent":
            sent[email_of[d["report_id"]]] += 1
    return sent


def mail_counts(maildir: Any) -> dict[str, int]:
    """Emails per recipient address in the local mail sink's Maildir."""
    return {a: sum(ids.values()) for a, ids in mail_ids(maildir).items()}


def delivery_token(message_id: str | None) -> str | None:
    """The delivery a Message-ID names: notify makes it with `make_msgid(idstring=<delivery id
    prefix>)`, i.e. `<time.pid.random.idstring@host>`; a resend of one delivery keeps it."""
    if not message_id:
        return None
    local = message_id.strip().strip("<>").split("@", 1)[0]
    parts = local.split(".", 3)
    return parts[3] if len(parts) == 4 and parts[3] else None


def mail_ids(maildir: Any) -> dict[str, Counter[str]]:
    """Per recipient address: emails per delivery token (the whole Message-ID without one)."""
    import mailbox

    out: dict[str, Counter[str]] = {}
    try:
        box = mailbox.Maildir(maildir, create=False)
    except (OSError, mailbox.Error):
        return {}
    for msg in box:
        address = str(msg["To"]).strip().lower()
        mid = str(msg["Message-ID"] or "")
        out.setdefault(address, Counter())[delivery_token(mid) or mid] += 1
    return out
