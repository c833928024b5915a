"""The scheduler process: build the app, add the jobs of mailer/jobs.py, run them."""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler

from mailer import create_app
from mailer.jobs import add_jobs


def main() -> None:
    """Run the scheduler in the foreground until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app()
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"])
    add_jobs(scheduler, app)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


if __name__ == "__main__":
    main()
