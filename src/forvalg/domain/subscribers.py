"""A subscriber proving control of a line: a one-time code sent to the line itself.

The code goes out through the notification outbox, by letter to the line's address or
by SMS, so only someone at the line can read it. A right code opens a subscriber
request (a work item naming the line) and a short session bound to it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from forvalg.domain.notifications import CustomerLetter, LetterTemplate

CODE_DIGITS = 8
MAX_ATTEMPTS = 5  # wrong codes before a code is spent
MAX_LIVE_CODES = 3  # codes a line may have outstanding at once
CODES_PER_DAY = 3  # codes a line may be sent in 24 hours: at most 15 guesses a day
DAY = timedelta(days=1)
SESSION = timedelta(hours=1)


class Channel(StrEnum):
    LETTER = "letter"
    SMS = "sms"

    @property
    def valid_for(self) -> timedelta:
        """A letter takes days to arrive; an SMS is read at once."""
        return timedelta(days=14) if self is Channel.LETTER else timedelta(minutes=15)


def code_letter(
    number: str, code: str, channel: Channel, *, valid_until: datetime, at: datetime
) -> CustomerLetter:
    return CustomerLetter(
        number=number,
        order_id=None,
        template=LetterTemplate.SUBSCRIBER_CODE,
        fields={"number": number, "code": code, "valid_until": valid_until.isoformat()},
        at=at,
        channel=channel.value,
    )
