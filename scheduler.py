"""The scheduler process, for a supervisor that runs scripts: the same as `mailer scheduler`."""

from __future__ import annotations

from mailer.app import main

if __name__ == "__main__":
    main(["scheduler"])
