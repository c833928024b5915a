"""Where the service's files are: the checkout it runs from, its templates, migrations and
front-end assets, and the development outbox."""

from __future__ import annotations

import mailbox
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT_ROOT / "templates"
STATIC = PROJECT_ROOT / "static"
TRANSLATIONS = PROJECT_ROOT / "translations"
MIGRATIONS = PROJECT_ROOT / "migrations"
# GOV.UK Frontend's compiled CSS, JavaScript, fonts and images, installed by npm.
FRONTEND = PROJECT_ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"


def open_outbox(directory: str) -> mailbox.Maildir:
    """Open the outbox Maildir, creating it (and its tmp, new and cur folders) if needed."""
    for sub in ("tmp", "new", "cur"):
        (Path(directory) / sub).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(directory, factory=None, create=False)


# The ONS names, codes and lookups of the Community Safety Partnerships that `mailer
# load-csps` reads by default.
ONS_DATA = PROJECT_ROOT / "data" / "ons"
