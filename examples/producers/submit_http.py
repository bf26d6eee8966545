#!/usr/bin/env python3
"""Submit an item to syndicate's HTTP intake API, with nothing but the standard library.

    SYNDICATE_API_TOKEN=... python3 submit_http.py --url http://127.0.0.1:8000 item.json

Prints the plan (one line per publication) and exits 0 when the item was stored (201) or was
already stored with this revision (200), 2 when it was refused (422/409: every problem is
printed), 1 on any other answer or a network error. Any language can do the same: one POST of
the item as JSON with ``Authorization: Bearer <token>`` (see docs/api.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("item", help="the item as a JSON file")
    parser.add_argument("--url", default=os.environ.get("SYNDICATE_API_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an answer")
    args = parser.parse_args()
    token = os.environ.get("SYNDICATE_API_TOKEN")
    if not token:
        print("set SYNDICATE_API_TOKEN", file=sys.stderr)
        return 1
    if not args.url.startswith(("http://", "https://")):
        print(f"not an http(s) URL: {args.url}", file=sys.stderr)
        return 1
    body = Path(args.item).read_bytes()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        args.url.rstrip("/") + "/v1/items", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as resp:  # noqa: S310 - the operator's URL
            status, answer = resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, json.loads(exc.read() or b"{}")
    except (urllib.error.URLError, OSError) as exc:
        print(f"cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    if status in (200, 201):
        print(f"{answer['item_id']} r{answer['revision']}: {answer['status']}, "
              f"{len(answer['publications'])} publication(s)")
        for p in answer["publications"]:
            print(f"  {p['id']}\t{p['locale']}\t{p['account']}\t{p['state']}\t{p['scheduled_for']}")
        return 0
    print(f"HTTP {status}: {answer.get('title', '')}", file=sys.stderr)
    for problem in answer.get("problems", []):
        print(f"  {problem['field'] or '(item)'}: {problem['reason']}", file=sys.stderr)
    return 2 if status in (409, 422) else 1


if __name__ == "__main__":
    sys.exit(main())
