"""The CSP news mailer: news, subscriptions and the mail that carries them (the app factory
is mailer.app.create_app)."""
