"""The counts the staff pages made live, over the deliveries, before runs kept their counts
(migration 0017): the same SQL, run directly by bench/staff_pages.py --before. A lower bound
of the old pages: the run page's chart (a GROUP BY of the same rows) is left out."""

from __future__ import annotations

LIVE_COUNTS = {
    "runs": [
        "SELECT run_id, status, count(*) FROM deliveries WHERE run_id IN (SELECT id FROM "
        "send_runs ORDER BY created_at DESC, id DESC LIMIT 50) GROUP BY run_id, status",
    ],
    "run": [
        "SELECT status, count(*) FROM deliveries WHERE run_id = :run_id GROUP BY status",
        "SELECT min(sent_at), max(sent_at) FROM deliveries "
        "WHERE run_id = :run_id AND sent_at IS NOT NULL",
        "SELECT count(*) FROM deliveries WHERE run_id = :run_id AND status = 'bounced'",
        "SELECT count(DISTINCT b.delivery_id) FROM bounce_events b "
        "JOIN deliveries d ON d.id = b.delivery_id "
        "WHERE d.run_id = :run_id AND b.kind = 'complaint'",
    ],
    "deliverability": [
        "SELECT count(DISTINCT id) FROM deliveries WHERE status IN ('sent', 'bounced') "
        "AND sent_at >= (SELECT created_at FROM send_runs WHERE id = :run_id - 30)",
    ],
    "dashboard": ["SELECT status, count(*) FROM deliveries GROUP BY status"],
}
