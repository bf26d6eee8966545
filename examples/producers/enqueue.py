#!/usr/bin/env python3
"""Send a message to syndicate's workers through Redis, without syndicate or Dramatiq installed.

    python3 enqueue.py intake ITEM_ID REVISION          # localize and plan a stored item
    python3 enqueue.py localize ITEM_ID REVISION LOCALE
    python3 enqueue.py publish PUBLICATION_ID           # only for rows in state 'enqueued'/'retrying'
    python3 enqueue.py reconcile PUBLICATION_ID         # only for rows in state 'in_doubt'

Environment: SYNDICATE_REDIS_URL (default redis://127.0.0.1:6379/0), SYNDICATE_REDIS_NAMESPACE
(default syndicate). Needs only the ``redis`` package. Messages carry ids, never content: the item
must already be in the ledger (stored through the HTTP API or ``syndicate enqueue``). Sending a
message twice is harmless. The format is documented in docs/message-format.md.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid

import redis

#: actor -> (queue, argument types), as syndicate declares them.
ACTORS = {
    "intake": ("syndicate.intake", (str, int)),
    "localize": ("syndicate.localize", (str, int, str)),
    "publish": ("syndicate.publish", (int,)),
    "reconcile": ("syndicate.reconcile", (int,)),
}


def message(actor: str, args: list[object]) -> tuple[str, str, bytes]:
    """(queue, redis message id, encoded message) for ``actor(*args)``."""
    queue, _types = ACTORS[actor]
    redis_message_id = str(uuid.uuid4())
    body = {
        "queue_name": queue,
        "actor_name": actor,
        "args": args,
        "kwargs": {},
        "options": {"redis_message_id": redis_message_id},
        "message_id": str(uuid.uuid4()),
        "message_timestamp": int(time.time() * 1000),
    }
    return queue, redis_message_id, json.dumps(body, separators=(",", ":")).encode("utf-8")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ACTORS or len(argv) - 1 != len(ACTORS[argv[0]][1]):
        print(__doc__, file=sys.stderr)
        return 2
    actor = argv[0]
    try:
        args = [t(v) for t, v in zip(ACTORS[actor][1], argv[1:], strict=True)]
    except ValueError as exc:
        print(f"bad argument: {exc}", file=sys.stderr)
        return 2
    queue, rid, data = message(actor, args)
    ns = os.environ.get("SYNDICATE_REDIS_NAMESPACE") or "syndicate"
    client = redis.Redis.from_url(os.environ.get("SYNDICATE_REDIS_URL") or "redis://127.0.0.1:6379/0",
                                  socket_timeout=5, socket_connect_timeout=5)
    # Exactly what Dramatiq's dispatch.lua does for "enqueue": store the message, then queue its id.
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(f"{ns}:{queue}.msgs", rid, data)
        pipe.rpush(f"{ns}:{queue}", rid)
        pipe.execute()
    print(f"sent {actor}{tuple(args)} on {ns}:{queue} as {rid}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
