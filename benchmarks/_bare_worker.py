"""The bare baseline worker: one Dramatiq actor that makes one ``requests.post`` per message.

Same broker as syndicate's workers (``syndicate.runtime.make_broker``: Redis, same heartbeat and
timeouts), same ``Worker`` settings (threads, ``worker_timeout=100``), no ledger, no rendering,
no middleware of ours. Runs until SIGTERM.

With ``--ledger URL`` it also does the least an exactly-once ledger must do per post, with plain
psycopg on one connection per thread: a committed claim (a conditional ``UPDATE`` and an event
``INSERT``) before the post and a committed record (the same two) after it, on the tables that
:func:`create_floor_tables` makes. That is the floor under any durable claim → call → record.

    python -m benchmarks._bare_worker --redis-url URL --namespace NS --url URL [--threads 8] [--ledger URL]
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from types import FrameType

import dramatiq
import requests
from dramatiq import Worker

from syndicate.runtime import make_broker

#: The bare baseline's queue (in the run's own Redis namespace).
BARE_QUEUE = "bench.bare"
#: The body the bare baseline posts: about the size of a rendered webhook payload.
BARE_BODY = json.dumps({"type": "content.published", "data": {"text": "x" * 900}}).encode()

CLAIM = ("UPDATE floor_pubs SET state = 'calling', attempts = attempts + 1, claimed_at = now() "
         "WHERE id = %s AND state = 'enqueued' RETURNING id")
RECORD = "UPDATE floor_pubs SET state = 'published', published_at = now() WHERE id = %s AND state = 'calling'"
EVENT = "INSERT INTO floor_events (pub_id, from_state, to_state, at) VALUES (%s, %s, %s, now())"


def create_floor_tables(dsn: str, rows: int) -> None:
    """The floor's two tables, with ``rows`` enqueued publications (ids 0 .. rows - 1)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE floor_pubs (id integer PRIMARY KEY, state text NOT NULL, attempts integer "
                     "NOT NULL DEFAULT 0, claimed_at timestamptz, published_at timestamptz)")
        conn.execute("CREATE TABLE floor_events (id bigserial PRIMARY KEY, pub_id integer NOT NULL, "
                     "from_state text, to_state text, at timestamptz NOT NULL)")
        with conn.cursor().copy("COPY floor_pubs (id, state) FROM STDIN") as cp:
            for n in range(rows):
                cp.write_row((n, "enqueued"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redis-url", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--url", required=True, help="where each message is posted")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--ledger", default="", help="a PostgreSQL DSN: claim and record each post there")
    args = ap.parse_args()
    broker = make_broker(args.redis_url, namespace=args.namespace)
    url = args.url
    local = threading.local()

    def post() -> None:
        resp = requests.post(url, data=BARE_BODY, headers={"Content-Type": "application/json"}, timeout=(5, 20))
        resp.raise_for_status()

    def bare_post(n: int) -> None:
        if not args.ledger:
            post()
            return
        import psycopg

        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(args.ledger, autocommit=True)
        with conn.transaction():
            if conn.execute(CLAIM, (n,)).fetchone() is None:
                return
            conn.execute(EVENT, (n, "enqueued", "calling"))
        post()
        with conn.transaction():
            conn.execute(RECORD, (n,))
            conn.execute(EVENT, (n, "calling", "published"))

    dramatiq.actor(broker=broker, actor_name="bare_post", queue_name=BARE_QUEUE, priority=0, max_retries=0)(bare_post)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = Worker(broker, worker_threads=args.threads, worker_timeout=100)
    worker.start()
    print("bare.started", flush=True)
    stop.wait()
    worker.stop(timeout=10_000)
    broker.close()


if __name__ == "__main__":
    main()
