"""Audit: the append-only, hash-chained record auditors trust."""
