"""Outgoing e-mail: a durable outbox in the database, an SMTP worker, and a dev catcher."""
