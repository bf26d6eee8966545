"""Building blocks with no knowledge of items, routes or channels: strict readers for YAML and JSON,
field types and locale tags, secrets and their redaction, structured logging, metrics counters,
leases, the backoff every retry waits by, network address rules, and the text spans every stage
agrees on.

Everything in syndicate may import from here; nothing here imports from the rest of syndicate
(but :mod:`syndicate.errors`).
"""
