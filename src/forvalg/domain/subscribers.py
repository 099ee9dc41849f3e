"""A subscriber proving control of a line: a one-time code sent to the line itself.

The code goes out through the notification outbox, by letter to the line's address or
by SMS, so only someone at the line can read it. A right code opens a subscriber
request (a work item naming the line) and a short session bound to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

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


@dataclass(frozen=True, slots=True)
class CodeMessage:
    """The letter or SMS that carries a one-time code to the line. Neutral: it names no
    operator and says nothing about preselection."""

    number: str
    channel: Channel
    body: str
    at: datetime


def code_message(
    number: str, code: str, channel: Channel, *, valid_until: datetime, at: datetime
) -> CodeMessage:
    body = (
        f"Line {number}: your code to see your line's preselection and who has looked at "
        f"its data is {code}. It works until {valid_until.isoformat()}. If you did not ask "
        "for it, you need do nothing: this message is sent for information only."
    )
    return CodeMessage(number, channel, body, at)
