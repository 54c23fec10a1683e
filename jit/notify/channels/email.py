"""Email over SMTP (aiosmtplib): a plain text and an HTML part."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib

from jit.config import Settings
from jit.notify.channels import Undeliverable
from jit.notify.templates import Message


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def build(settings: Settings, message: Message, to_name: str, to_address: str, delivery_id: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = formataddr((to_name, to_address))
    mail["Subject"] = f"[JIT] {message.title}"
    domain = settings.smtp_from.rpartition("@")[2].strip("> ") or "jit"
    mail["Message-ID"] = make_msgid(idstring=f"jit-{delivery_id}", domain=domain)
    # Receivers can drop a repeat of the same delivery (at-least-once) by this header.
    mail["X-JIT-Delivery"] = str(delivery_id)
    mail["X-JIT-Event"] = message.kind
    mail.set_content(message.text())
    mail.add_alternative(message.html(), subtype="html")
    return mail


async def send(settings: Settings, message: Message, to_name: str, to_address: str, delivery_id: int) -> None:
    if not to_address:
        raise Undeliverable("the user has no email address")
    mail = build(settings, message, to_name, to_address, delivery_id)
    try:
        await aiosmtplib.send(
            mail, hostname=settings.smtp_host, port=settings.smtp_port,
            username=settings.smtp_username, password=settings.smtp_password,
            use_tls=settings.smtp_tls == "tls", start_tls=True if settings.smtp_tls == "starttls" else False,
            timeout=settings.notify_send_timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise Undeliverable(f"the SMTP server refused {to_address}: {exc}") from exc
