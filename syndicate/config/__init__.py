"""Reading and checking the configuration directory (composition root): :func:`.loading.load_config`
reads routes, accounts, settings and glossaries into one :class:`~syndicate.model.config.Config`
and reports every problem at once; :mod:`.reload` swaps in a new one on SIGHUP.
"""
