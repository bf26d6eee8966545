#!/bin/sh
# Send an `intake` wake-up for a stored item with redis-cli alone (see docs/message-format.md).
#
#   SYNDICATE_REDIS_URL=redis://127.0.0.1:6379/0 ./enqueue.sh ITEM_ID REVISION
#
# The item must already be in the ledger. Sending twice is harmless.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 ITEM_ID REVISION" >&2
  exit 2
fi
item_id=$1
revision=$2
# Item ids are [A-Za-z0-9._:-] and revisions digits, so neither needs JSON escaping.
case "$item_id" in *[!A-Za-z0-9._:-]*|'') echo "bad item id" >&2; exit 2 ;; esac
case "$revision" in *[!0-9]*|'') echo "bad revision" >&2; exit 2 ;; esac

url=${SYNDICATE_REDIS_URL:-redis://127.0.0.1:6379/0}
ns=${SYNDICATE_REDIS_NAMESPACE:-syndicate}
queue=syndicate.intake
rid=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen)
mid=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen)
now_ms=$(( $(date +%s) * 1000 ))
msg=$(printf '{"queue_name":"%s","actor_name":"intake","args":["%s",%s],"kwargs":{},"options":{"redis_message_id":"%s"},"message_id":"%s","message_timestamp":%s}' \
  "$queue" "$item_id" "$revision" "$rid" "$mid" "$now_ms")

# Store the message first, then queue its id (a worker that pops the id finds the message).
redis-cli -u "$url" HSET "$ns:$queue.msgs" "$rid" "$msg" >/dev/null
redis-cli -u "$url" RPUSH "$ns:$queue" "$rid" >/dev/null
echo "sent intake(\"$item_id\", $revision) on $ns:$queue as $rid"
