"""The staff area's navigation: four groups of pages, and which of them a member of staff sees."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    """One page of a group: its label, its endpoint, the endpoints that count as on it."""

    label: str
    endpoint: str
    covers: tuple[str, ...]
    admin_only: bool = False

    def is_current(self, endpoint: str) -> bool:
        """Whether the page showing (by its endpoint) is this page or one under it."""
        return endpoint == self.endpoint or endpoint.startswith(self.covers)


@dataclass(frozen=True)
class Group:
    """A heading of the service navigation and the pages of its sub-navigation."""

    label: str
    links: tuple[Link, ...]


@dataclass(frozen=True)
class ShownGroup:
    """A group as one member of staff sees it, on one page."""

    label: str
    links: tuple[Link, ...]
    current: Link | None

    @property
    def endpoint(self) -> str:
        """The group's landing page: its first page."""
        return self.links[0].endpoint


GROUPS = (
    Group(
        "Content",
        (
            Link("News", "staff.dashboard", ("staff.news.",)),
            Link("Bulletins", "staff.bulletins.bulletin_list", ("staff.bulletins.",)),
            Link("Topics", "staff.topics.topic_list", ("staff.topics.",), admin_only=True),
            Link("CSP directory", "staff.csps.directory", ("staff.csps.",)),
            Link("Case studies", "staff.case_studies.queue", ("staff.case_studies.",)),
        ),
    ),
    Group(
        "Subscribers",
        (
            Link(
                "Subscribers",
                "staff.subscribers.subscribers",
                (
                    "staff.subscribers.subscriber",
                    "staff.subscribers.change_topics",
                    "staff.subscribers.send_manage_link",
                    "staff.subscribers.export",
                    "staff.privacy.",
                ),
                admin_only=True,
            ),
            Link("Import", "staff.imports.import_form", ("staff.imports.",), admin_only=True),
            Link(
                "Why people unsubscribe",
                "staff.subscribers.leaving_reasons",
                (),
                admin_only=True,
            ),
            Link(
                "Suppression list",
                "staff.deliverability.suppression_list",
                ("staff.deliverability.add_suppression", "staff.deliverability.remove_supp"),
                admin_only=True,
            ),
            Link("Contact messages", "staff.contact.inbox", ("staff.contact.",)),
        ),
    ),
    Group(
        "Sending",
        (
            Link("Send runs", "staff.runs.runs", ("staff.runs.",)),
            Link(
                "Deliverability",
                "staff.deliverability.deliverability_overview",
                (),
                admin_only=True,
            ),
            Link(
                "Unreadable mail",
                "staff.deliverability.inbound_list",
                ("staff.deliverability.inbound", "staff.deliverability.handle_inbound"),
                admin_only=True,
            ),
        ),
    ),
    Group(
        "Admin",
        (
            Link(
                "Staff accounts",
                "staff.admin.users",
                (
                    "staff.admin.resend_invitation",
                    "staff.admin.turn_off_second_factor",
                    "staff.admin.user_access",
                ),
                admin_only=True,
            ),
            Link("API keys", "staff.admin.api_keys", ("staff.admin.revoke",), admin_only=True),
            Link("Audit log", "staff.admin.audit_log", (), admin_only=True),
        ),
    ),
)


def staff_navigation(endpoint: str, *, admin: bool) -> list[ShownGroup]:
    """The groups this member of staff can use, each with the page showing marked if in it."""
    shown = []
    for group in GROUPS:
        links = tuple(link for link in group.links if admin or not link.admin_only)
        if links:
            current = next((link for link in links if link.is_current(endpoint)), None)
            shown.append(ShownGroup(group.label, links, current))
    return shown
