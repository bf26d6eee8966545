"""Channel adapters shipped with syndicate, one module per channel.

Each registers in the ``syndicate.adapters`` entry-point group (see ``pyproject.toml``); the core
finds them there and never imports them directly.
"""
