"""/healthz and /readyz as a load balancer asks them."""

from __future__ import annotations

import logging

from sqlalchemy import text

from config import TestingConfig
from mailer.app import create_app
from mailer.extensions import db


def test_healthz_answers_without_the_database(tmp_path):
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/none/x.sqlite"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_when_the_database_is_at_the_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_503_when_the_database_cannot_be_reached(tmp_path):
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/none/x.sqlite"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["reason"].startswith("database unreachable")


def test_readyz_is_503_when_migrations_are_behind(app, client):
    with app.app_context():
        head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.execute(text("UPDATE alembic_version SET version_num = '0012'"))
        db.session.commit()
    try:
        response = client.get("/readyz")
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
            db.session.commit()
    assert response.status_code == 503
    reason = response.get_json()["reason"]
    assert reason == f"migrations not at head: database at 0012, code at {head}"
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_on_a_database_never_migrated(tmp_path):
    app = create_app(TestingConfig, {"DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"].startswith("migrations not at head: database at none")


def test_probes_answer_a_balancer_asking_again_and_again(client):
    # (A default limit cannot be tried here: Flask-Limiter keeps it on the one limiter object,
    # for every app the process makes after.)
    statuses = {client.get(url).status_code for url in ("/healthz", "/readyz") for _ in range(100)}
    assert statuses == {200}


def test_probes_stay_out_of_the_access_log(app, caplog):
    access = logging.getLogger("gunicorn.access")
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        access.info('127.0.0.1 - - "GET /healthz HTTP/1.1" 200 16')
        access.info('127.0.0.1 - - "GET /readyz HTTP/1.1" 200 16')
        access.info('127.0.0.1 - - "GET /news HTTP/1.1" 200 16')
    assert [record.getMessage() for record in caplog.records] == [
        '127.0.0.1 - - "GET /news HTTP/1.1" 200 16'
    ]
