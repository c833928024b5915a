"""The emails to a partnership's role mailbox: a link to review and confirm its entry in the
CSP directory, sent by staff or by the yearly reminder."""

from __future__ import annotations

from mailer.models import Csp
from mailer.models import CspStatus
from mailer.models import Delivery
from mailer.models import MessageKind
from mailer.tokens import csp_token

PARTNERSHIP_KINDS = frozenset({MessageKind.CSP_LINK, MessageKind.CSP_REMINDER})


def why_not_send_partnership(delivery: Delivery) -> str | None:
    """Why an email to a partnership no longer applies, or None to send it."""
    csp = delivery.csp
    if csp is None or delivery.kind not in PARTNERSHIP_KINDS:
        return "names no partnership"
    if csp.status is not CspStatus.ACTIVE:
        return "partnership has ended"
    if not csp.email:
        return "partnership has no mailbox"
    return None


def partnership_context(
    csp: Csp, kind: MessageKind, *, base_url: str, days: int
) -> dict[str, object]:
    """What the partnership email templates show: its names, current details and its link,
    made now so that it names the links used so far."""
    return {
        "csp": csp,
        "update_url": f"{base_url}/csps/update/{csp_token(csp.id, csp.links_used)}",
        "page_url": f"{base_url}/csps/{csp.code}",
        "link_days": days,
        "reminder": kind is MessageKind.CSP_REMINDER,
    }
