"""Stage 1, intake: an item comes in (:mod:`.producer`: ``submit`` and ``cancel``), its
publications are planned per route (:mod:`.planning`, with the window and gap maths of
:mod:`.schedule` and the UTM attribution of :mod:`.attribution`), stored in the ledger, and the
``intake`` step (:mod:`.steps`) asks for its localizations.
"""
