"""Test e-mail back ends: a mail server that refuses some addresses, or every connection.

Both keep what they take in django.core.mail.outbox, like the locmem back end, so a test
sees exactly which messages went out."""

import smtplib
from collections.abc import Sequence
from typing import ClassVar

from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend


class RefusingBackend(EmailBackend):
    """Refuses the addresses in `refused` as an SMTP server does (550), takes the rest."""

    refused: ClassVar[set[str]] = set()

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        for message in messages:
            bounced = {
                a: (550, b"5.1.1 Mailbox unavailable") for a in message.to if a in self.refused
            }
            if bounced:
                raise smtplib.SMTPRecipientsRefused(bounced)
        return super().send_messages(messages)


class DownBackend(EmailBackend):
    """A mail server that is not listening."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        raise ConnectionRefusedError(111, "Connection refused")
