"""Run a real worker process with the test-only board adapter registered.

Usage: python -m tests.support.run_worker CONFIG_DIR THREADS [--no-dispatcher]
(environment: SYNDICATE_DATABASE_URL, SYNDICATE_REDIS_URL, SYNDICATE_REDIS_NAMESPACE)
"""

from __future__ import annotations

import sys

from syndicate.base.logging import configure_logging
from syndicate.channels.contract import AdapterRegistry
from syndicate.config.loading import load_config
from syndicate.runtime import Runtime
from syndicate.worker.host import serve_forever
from tests.support.board_adapter import BoardAdapter


def main() -> int:
    config_dir, threads = sys.argv[1], int(sys.argv[2])
    registry = AdapterRegistry()
    registry.register("board", BoardAdapter)
    configure_logging(json=True, level="INFO")
    with Runtime.create(config=load_config(config_dir, registry=registry)) as rt:
        return serve_forever(rt, threads=threads, dispatcher="--no-dispatcher" not in sys.argv)


if __name__ == "__main__":
    sys.exit(main())
