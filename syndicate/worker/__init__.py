"""The Dramatiq side (``syndicate worker``, ``syndicate run``): the actors that call one step each
(:mod:`.actors`), the worker host with its dispatcher and loops (:mod:`.host`), and the embedded
run that publishes a batch in one process (:mod:`.embedded`).
"""
