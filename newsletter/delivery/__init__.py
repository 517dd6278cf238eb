"""Sending: campaign ids, MIME, the ledger, the send loop, schedules, transports."""
