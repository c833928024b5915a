"""Mail as it comes back, shaped like the RFC examples and the MTAs' own formats.

Each builder takes the failing address, the VERP return path the bounce is sent to, and the
headers of our original message (as the receiving side saw them), and returns the bytes an
MTA would send. Lines end in CRLF, as on the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DATE = "Wed, 25 Nov 2026 07:05:12 +0000"


@dataclass(frozen=True)
class Original:
    """Our message as it went out: the address, the VERP return path, the header block."""

    recipient: str
    verp: str
    headers: str
    message_id: str


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def postfix_user_unknown(o: Original) -> bytes:
    """Postfix: RFC 3464 report, 5.1.1 from the remote server at RCPT TO."""
    return _crlf(f"""\
Return-Path: <>
Received: by relay.example.net (Postfix) id 4Z1xKQ2f7Vz9t; {DATE}
Date: {DATE}
From: MAILER-DAEMON@relay.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {o.verp}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4Z1xKQ2f7Vz9t.1764054312/relay.example.net"
Content-Transfer-Encoding: 8bit
Message-Id: <20261125070512.4Z1xKQ2f7Vz9t@relay.example.net>

This is a MIME-encapsulated message.

--4Z1xKQ2f7Vz9t.1764054312/relay.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host relay.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{o.recipient}>: host mx.example.org[203.0.113.25] said: 550 5.1.1
    <{o.recipient}>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--4Z1xKQ2f7Vz9t.1764054312/relay.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net
X-Postfix-Queue-ID: 4Z1xKQ2f7Vz9t
X-Postfix-Sender: rfc822; {o.verp}
Arrival-Date: {DATE}

Final-Recipient: rfc822; {o.recipient}
Original-Recipient: rfc822;{o.recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <{o.recipient}>: Recipient address rejected:
    User unknown in virtual mailbox table

--4Z1xKQ2f7Vz9t.1764054312/relay.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

{o.headers}
--4Z1xKQ2f7Vz9t.1764054312/relay.example.net--
""")


def postfix_delayed(o: Original) -> bytes:
    """Postfix: a delay warning (Action: delayed, 4.4.1), still being retried."""
    return _crlf(f"""\
Return-Path: <>
Date: {DATE}
From: MAILER-DAEMON@relay.example.net (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: {o.verp}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4Z1yB.1764068712/relay.example.net"

--4Z1yB.1764068712/relay.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host relay.example.net.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than 4 hour(s).
It will be retried until it is 5 day(s) old.

<{o.recipient}>: connect to mx.example.org[203.0.113.25]:25: Connection
    timed out

--4Z1yB.1764068712/relay.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net
X-Postfix-Queue-ID: 4Z1yB
Arrival-Date: {DATE}

Final-Recipient: rfc822; {o.recipient}
Original-Recipient: rfc822;{o.recipient}
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.org[203.0.113.25]:25:
    Connection timed out
Will-Retry-Until: Mon, 30 Nov 2026 07:05:12 +0000 (GMT)

--4Z1yB.1764068712/relay.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{o.headers}
--4Z1yB.1764068712/relay.example.net--
""")


def postfix_mailbox_full(o: Original) -> bytes:
    """Postfix: gave up after retrying a full mailbox (Action: failed, 4.2.2)."""
    return _crlf(f"""\
Return-Path: <>
Date: {DATE}
From: MAILER-DAEMON@relay.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {o.verp}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4Z2aC.1764486312/relay.example.net"

--4Z2aC.1764486312/relay.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host relay.example.net.

<{o.recipient}>: host mx.example.org[203.0.113.25] said: 452 4.2.2
    <{o.recipient}>: Mailbox full (in reply to RCPT TO command)

--4Z2aC.1764486312/relay.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net
Arrival-Date: {DATE}

Final-Recipient: rfc822; {o.recipient}
Action: failed
Status: 4.2.2
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 452 4.2.2 <{o.recipient}>: Mailbox full

--4Z2aC.1764486312/relay.example.net--
""")


def exim_rcpt_rejected(o: Original) -> bytes:
    """Exim: plain text, X-Failed-Recipients, the remote 550 5.1.1 after RCPT TO."""
    return _crlf(f"""\
Return-path: <>
Envelope-to: {o.verp}
Delivery-date: {DATE}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mail.example.net>
To: {o.verp}
References: {o.message_id}
Content-Type: text/plain; charset=us-ascii
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1vHvq2-0004Ag-1x@mail.example.net>
X-Failed-Recipients: {o.recipient}
Date: {DATE}

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {o.recipient}
    host mx.example.org [203.0.113.25]
    SMTP error from remote mail server after RCPT TO:<{o.recipient}>:
    550 5.1.1 <{o.recipient}>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

{o.headers}
A summary of the news.
""")


def exim_delay_warning(o: Original) -> bytes:
    """Exim: plain-text warning that a message is still queued after 24 hours."""
    return _crlf(f"""\
Return-path: <>
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mail.example.net>
To: {o.verp}
Subject: Warning: message 1vHvq2-0004Ag-1x delayed 24 hours
References: {o.message_id}
Content-Type: text/plain; charset=us-ascii
Message-Id: <E1vHw01-0004Bk-2c@mail.example.net>
Date: {DATE}

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mail.example.net.

The message identifier is:     1vHvq2-0004Ag-1x
The subject of the message is: CSP news

The address to which the message has not yet been delivered is:

  {o.recipient}
    host mx.example.org [203.0.113.25]
    Delay reason: SMTP error from remote mail server after RCPT TO:<{o.recipient}>:
    451 4.7.1 Greylisting in action, please come back later

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered. Eventually the mail delivery software will give up,
and when that happens, the message will be returned to you.
""")


def exchange_recipient_not_found(o: Original) -> bytes:
    """Microsoft 365: a non-delivery report, 550 5.1.10 RESOLVER.ADR.RecipientNotFound."""
    return _crlf(f"""\
From: Microsoft Outlook
 <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com>
To: <{o.verp}>
Date: {DATE}
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="b4a1c5e2-6d0b-4c3e-9a1f-0d2e3c4b5a69"
MIME-Version: 1.0
Message-ID: <a1b2c3d4-e5f6-4a5b-8c7d-9e0f1a2b3c4d@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>
In-Reply-To: {o.message_id}
References: {o.message_id}
Subject: Undeliverable: CSP news
Auto-Submitted: auto-replied
X-MS-Exchange-Message-Is-Ndr:

--b4a1c5e2-6d0b-4c3e-9a1f-0d2e3c4b5a69
Content-Type: multipart/alternative; differences=Content-Type;
\tboundary="d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a"

--d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Your message to {o.recipient} couldn't be delivered.

The address wasn't found at the destination domain. It might be misspelled or
it might not exist. Try to fix the problem by doing one or more of the following:

Diagnostic information for administrators:
Generating server: AM0PR01MB1234.eurprd01.prod.exchangelabs.com
{o.recipient}
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient no=
t found by SMTP address lookup'

--d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

<html><body><p>Your message to {o.recipient} couldn't be delivered.</p></body></html>

--d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a--

--b4a1c5e2-6d0b-4c3e-9a1f-0d2e3c4b5a69
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;relay.csp-news.localhost
Arrival-Date: {DATE}

Original-Recipient: rfc822;{o.recipient}
Final-Recipient: rfc822;{o.recipient}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not
 found by SMTP address lookup

--b4a1c5e2-6d0b-4c3e-9a1f-0d2e3c4b5a69
Content-Type: message/rfc822

{o.headers}
A summary of the news.

--b4a1c5e2-6d0b-4c3e-9a1f-0d2e3c4b5a69--
""")


def _gmail(o: Original, *, status: str, reply: str, summary: str) -> bytes:
    return _crlf(f"""\
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {o.verp}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
References: {o.message_id}
In-Reply-To: {o.message_id}
X-Failed-Recipients: {o.recipient}
Message-ID: <6750a1c8.050a0220.2f3b1.9d1fSMTPIN_ADDED_MISSING@mx.google.com>
Date: {DATE}
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000d4f1a90626b5e2c1";
 report-type=delivery-status

--000000000000d4f1a90626b5e2c1
Content-Type: multipart/related; boundary="000000000000d4f9c90626b5e2c7"

--000000000000d4f9c90626b5e2c7
Content-Type: multipart/alternative; boundary="000000000000d4f9d00626b5e2c8"

--000000000000d4f9d00626b5e2c8
Content-Type: text/plain; charset="UTF-8"


** {summary} **

Your message couldn't be delivered to {o.recipient}.

The response was:

{reply}

--000000000000d4f9d00626b5e2c8--

--000000000000d4f9c90626b5e2c7--

--000000000000d4f1a90626b5e2c1
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Arrival-Date: {DATE}

Final-Recipient: rfc822; {o.recipient}
Action: failed
Status: {status}
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.27.26, the server for the
 domain gmail.com.)
Diagnostic-Code: smtp; {reply}
Last-Attempt-Date: {DATE}

--000000000000d4f1a90626b5e2c1
Content-Type: text/rfc822-headers

{o.headers}
--000000000000d4f1a90626b5e2c1--
""")


def gmail_over_quota(o: Original) -> bytes:
    """Gmail: 552-5.2.2 the recipient's inbox is out of storage space."""
    reply = (
        "552-5.2.2 The recipient's inbox is out of storage space. Please direct the\n"
        " recipient to 552-5.2.2 https://support.google.com/mail/?p=OverQuotaPerm\n"
        " 41be03b00d2f7-7c0e5b1d3f2si1234567a12.87 - gsmtp"
    )
    return _gmail(o, status="5.2.2", reply=reply, summary="Inbox full")


def gmail_unauthenticated(o: Original) -> bytes:
    """Gmail: 550-5.7.26 the message is not authenticated (our DNS, not the address)."""
    reply = (
        "550-5.7.26 Your email has been blocked because the sender is unauthenticated.\n"
        " 550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\n"
        " 41be03b00d2f7-7c0e5b1d3f2si1234567a12.88 - gsmtp"
    )
    return _gmail(o, status="5.7.26", reply=reply, summary="Message blocked")


def qmail_no_mailbox(o: Original) -> bytes:
    """qmail: the qmail-send bounce message format (QSBMF), #5.1.1."""
    return _crlf(f"""\
Return-Path: <>
Date: 25 Nov 2026 07:05:12 -0000
From: MAILER-DAEMON@mail.example.com
To: {o.verp}
Subject: failure notice

Hi. This is the qmail-send program at mail.example.com.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{o.recipient}>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

{o.headers}
A summary of the news.
""")


def _arf(o: Original, *, sender: str, agent: str, fields: str, original: str) -> bytes:
    return _crlf(f"""\
From: {sender}
Date: {DATE}
Subject: FW: CSP news
To: <fbl@csp-news.localhost>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
     boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.10 on {DATE}.  For more information about this format please
see http://www.mipassoc.org/arf/.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: {agent}
Version: 1
{fields}Arrival-Date: {DATE}
Source-IP: 192.0.2.10
Reported-Domain: csp-news.localhost

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

{original}
A summary of the news.

--part1_13d.2e68ed54_boundary--
""")


def aol_complaint(o: Original) -> bytes:
    """AOL-style ARF: the reported message keeps its Return-Path, the recipient is redacted."""
    headers = o.headers.replace(f"To: {o.recipient}", "To: redacted@aol.com")
    return _arf(o, sender="<scomp@aol.net>", agent="AOL SComp", fields="", original=headers)


def yahoo_complaint(o: Original) -> bytes:
    """Yahoo-style ARF: recipient redacted and no return path; only our Message-ID is left."""
    lines = o.headers.splitlines()
    kept = [line for line in lines if not line.startswith("Return-Path:")]
    headers = "\n".join(kept).replace(f"To: {o.recipient}", "To: redacted@yahoo.com")
    fields = "Original-Rcpt-To: <redacted@yahoo.com>\n"
    return _arf(
        o,
        sender="<feedback@arf.mail.yahoo.com>",
        agent="Yahoo!-Mail-Feedback/2.0",
        fields=fields,
        original=headers,
    )


def unsubscribe_email(sender: str, to: str, token: str) -> bytes:
    """What Gmail sends for the mailto: of List-Unsubscribe."""
    return _crlf(f"""\
From: {sender}
To: {to}
Subject: unsubscribe {token}
Date: {DATE}
Message-ID: <CAFx1=unsubscribe-request@mail.gmail.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"

This message was automatically generated by Gmail.
""")


def vacation_reply(o: Original) -> bytes:
    """An out-of-office answer sent to the return path (RFC 3834)."""
    return _crlf(f"""\
From: {o.recipient}
To: {o.verp}
Subject: Automatic reply: CSP news
Auto-Submitted: auto-replied
Date: {DATE}
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

I am out of the office until 1 December with limited access to email.
""")


def personal_reply(o: Original) -> bytes:
    """Someone answering the digest by hand, through a client that replies to the return path."""
    return _crlf(f"""\
From: {o.recipient}
To: {o.verp}
Subject: Re: CSP news
In-Reply-To: {o.message_id}
Date: {DATE}
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

Thanks, could you add my colleague to the list?
""")


def garbage(o: Original) -> bytes:
    """Something no parser makes sense of: no headers, binary noise, a broken boundary."""
    return (
        b"\x00\xffnot an email at all\r\n"
        b"Content-Type: multipart/report; boundary=\r\n\r\n--\r\n\xde\xad\xbe\xef\r\n"
    )


Builder = Callable[[Original], bytes]
