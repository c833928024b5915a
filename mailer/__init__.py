"""The CSP news mailer: news, subscriptions and the mail that carries them."""

from mailer.app import create_app

__all__ = ["create_app"]
