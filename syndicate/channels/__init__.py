"""The channel kit: the contract a channel adapter implements (:mod:`.contract`), and what adapters
share: fitting text to a channel's limits (:mod:`.rendering`), markup (:mod:`.markup`), the HTTP
boundary with its deadlines and error mapping (:mod:`.http`) and the guarded fetcher for URLs an
item names (:mod:`.fetching`).

It knows nothing of items, routes or the ledger, so an adapter (``adapters/`` or a third-party
package in the ``syndicate.adapters`` entry-point group) depends on it and on :mod:`syndicate.base`
alone.
"""
