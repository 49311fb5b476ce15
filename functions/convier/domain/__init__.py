"""The domain: pure logic on plain values, standard library only (tokens, pacing, MIME, events, dates).

Every runtime imports this, the send function first, so it loads nothing else (tests/test_import_rules.py).
"""
