"""What a resident (or any recipient of an email) does: follow an unsubscribe link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.notify.domain.delivery import UnsubscribeTokens
from services.notify.domain.errors import InvalidUnsubscribeToken
from services.notify.domain.model import Channel
from services.notify.usecases.ports import Preferences


class Unsubscribe:
    def __init__(
        self, tokens: UnsubscribeTokens, preferences: Preferences, clock: Callable[[], datetime]
    ) -> None:
        self.tokens = tokens
        self.preferences = preferences
        self.clock = clock

    async def unsubscribe(self, token: str) -> Channel:
        """The token's address receives nothing more on the token's channel; returns it."""
        verified = self.tokens.verify_token(token)
        if verified is None:
            raise InvalidUnsubscribeToken
        channel, key = verified
        await self.preferences.unsubscribe(key, channel, self.clock())
        return channel
