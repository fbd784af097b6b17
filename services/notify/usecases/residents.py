"""What a resident (or any recipient of an email) does: follow an unsubscribe link, then
confirm it."""

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

    def check(self, token: str) -> Channel:
        """The channel a valid token would unsubscribe from (nothing changes)."""
        return self._verified(token)[0]

    async def unsubscribe(self, token: str) -> Channel:
        """The token's address receives nothing more on the token's channel; returns it."""
        channel, key = self._verified(token)
        await self.preferences.unsubscribe(key, channel, self.clock())
        return channel

    def _verified(self, token: str) -> tuple[Channel, str]:
        verified = self.tokens.verify_token(token)
        if verified is None:
            raise InvalidUnsubscribeToken
        return verified
