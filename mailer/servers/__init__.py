"""The SMTP servers the service runs: the bounce inbox, the development outbox, and `mailer dev`."""
