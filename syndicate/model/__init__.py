"""The vocabulary of syndicate as data: the content item a producer submits (:mod:`.item`), the
configuration (:mod:`.config`: routes, accounts, settings), glossaries, publication states and
worker timing. Validated at the edge, immutable afterwards; every stage reads them.
"""
