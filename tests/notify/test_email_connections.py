"""The email sender keeps its SMTP connections open between messages (a real aiosmtpd server)."""

from __future__ import annotations

import asyncio

from services.notify.domain.model import Channel
from services.notify.domain.sending import Message
from services.notify.mail import EmailSender, SmtpConfig
from tests.notify.peers import smtp_server


def _message(n: int) -> Message:
    return Message(f"d{n}", Channel.EMAIL, f"r{n}@example.org", "s", "t", "<p>t</p>", {}, None)


def _sender(port: int, connections: int = 2) -> EmailSender:
    config = SmtpConfig(host="127.0.0.1", port=port, sender="n@fieldreports.local")
    return EmailSender(config, connections=connections)


async def test_many_emails_share_at_most_one_connection_per_thread() -> None:
    with smtp_server() as (box, port):
        sender = _sender(port, connections=2)
        await asyncio.gather(*(sender.send(_message(n)) for n in range(12)))
        await sender.aclose()
    assert len(box.messages) == 12
    assert len(box.peers) <= 2
    assert sender.pool.opened <= 2


async def test_a_connection_the_server_dropped_is_replaced_without_failing_the_email() -> None:
    with smtp_server() as (box, port):
        sender = _sender(port, connections=1)
        await sender.send(_message(1))
    with smtp_server(box, port):  # the server restarted: the kept connection is dead
        await sender.send(_message(2))
        await sender.aclose()
    assert [m["To"] for m in box.messages] == ["r1@example.org", "r2@example.org"]
    assert sender.pool.opened == 2


async def test_a_connection_idle_too_long_is_not_reused() -> None:
    with smtp_server() as (box, port):
        sender = _sender(port, connections=1)
        sender.pool.idle_s = 0.0
        await sender.send(_message(1))
        await sender.send(_message(2))
        await sender.aclose()
    assert len(box.peers) == 2
