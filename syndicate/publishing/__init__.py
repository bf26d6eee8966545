"""Stage 3, publishing: the dispatcher (:mod:`.dispatcher`) sends due publications to the
workers; the publish step (:mod:`.steps`) claims one, renders it (:mod:`.content`), checks the
account's caps (:mod:`.ratelimit`), calls the adapter and records the outcome; the reconcile
step looks for a post whose outcome is in doubt before anything is sent again.
"""
