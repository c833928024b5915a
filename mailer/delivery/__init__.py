"""Delivery: compose messages, queue them, send them over SMTP."""
