"""The Welsh (Cymraeg) texts staff write beside the English of news items, bulletins and
topics. Each is optional: an empty one makes the Welsh pages show the English, with a note.

A Welsh body is Markdown, rendered and sanitised with nh3 as the English one is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mailer.domain import news
from mailer.errors import FieldErrors
from mailer.models import Bulletin
from mailer.models import NewsItem
from mailer.models import Topic


@dataclass(frozen=True)
class Field:
    """One Welsh text: its form field, the column it goes to, its limit and its words."""

    name: str
    column: str
    limit: int
    label: str
    multiline: bool = False
    # The column its rendered HTML goes to, for a Markdown body.
    html_column: str = ""


NEWS_FIELDS = (
    Field("title_cy", "title_cy", news.MAX_TITLE, "Welsh title"),
    Field("summary_cy", "summary_cy", news.MAX_SUMMARY, "Welsh summary"),
    Field("body_cy", "body_markdown_cy", news.MAX_BODY, "Welsh body", True, "body_html_cy"),
)
BULLETIN_FIELDS = (
    Field("subject_cy", "subject_cy", 200, "Welsh subject"),
    Field("body_cy", "body_markdown_cy", news.MAX_BODY, "Welsh introduction", True, "body_html_cy"),
)
TOPIC_FIELDS = (
    Field("name_cy", "name_cy", 120, "Welsh name"),
    Field("description_cy", "description_cy", 300, "Welsh description"),
)
FIELDS: Mapping[type, tuple[Field, ...]] = {
    NewsItem: NEWS_FIELDS,
    Bulletin: BULLETIN_FIELDS,
    Topic: TOPIC_FIELDS,
}


def validate(
    values: Mapping[str, Any], fields: tuple[Field, ...], *, partial: bool = False
) -> dict[str, str]:
    """The Welsh texts of a form or JSON body, checked as their English twins are; a field
    left out is "", or, if `partial` (a change of some fields), not changed.

    :raises FieldErrors: a message per bad field.
    """
    errors: dict[str, str] = {}
    texts = {}
    for field in fields:
        if partial and field.name not in values:
            continue
        value = values.get(field.name)
        if value is None and field.name in values:
            errors[field.name] = f"{field.label} must be text"
            continue
        texts[field.name] = news.check_text(
            errors,
            field.name,
            value,
            field.limit,
            multiline=field.multiline,
            label=field.label,
        )
    if errors:
        raise FieldErrors(errors)
    return texts


def apply(thing: NewsItem | Bulletin | Topic, texts: Mapping[str, str]) -> None:
    """Store the checked Welsh texts on `thing`, rendering a Welsh body to safe HTML."""
    for field in FIELDS[type(thing)]:
        if field.name not in texts:
            continue
        setattr(thing, field.column, texts[field.name])
        if field.html_column:
            body = texts[field.name]
            setattr(thing, field.html_column, news.render_markdown(body) if body else "")


def form_pairs(thing: NewsItem | Bulletin | Topic) -> list[tuple[str, str]]:
    """The Welsh fields of an edit form as `thing` is now."""
    return [(field.name, str(getattr(thing, field.column))) for field in FIELDS[type(thing)]]


def as_json(thing: NewsItem | Bulletin | Topic) -> dict[str, str]:
    """The Welsh texts for the API, under their form names (`body_cy` is the Markdown, and
    `body_html_cy` its HTML)."""
    texts = dict(form_pairs(thing))
    for field in FIELDS[type(thing)]:
        if field.html_column:
            texts[field.html_column] = str(getattr(thing, field.html_column))
    return texts


def names(fields: tuple[Field, ...]) -> frozenset[str]:
    """The names the Welsh texts have in forms and JSON."""
    return frozenset(field.name for field in fields)
