"""scrapy-redis's priority queue, made reliable: a popped request is parked, not forgotten.

pop() moves the best request from the queue into a processing hash under a fresh token, with
the id of the worker that took it, in one Lua script (atomic: two workers never get the same
request). The worker acknowledges the token once its engine is done with the request
(crawler.distributed.worker.WorkerExtension). Tokens of workers whose heartbeat key has
expired go back to the queue with their original priority (`requeue_orphans`), so a worker
killed with SIGKILL loses nothing; at worst a page it had finished is fetched once more, which
the store's upserts make harmless.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any

from scrapy import Request
from scrapy_redis.queue import PriorityQueue

from crawler.distributed.keys import heartbeat_prefix

log = logging.getLogger(__name__)

_WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

_POP = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREM', KEYS[1], item[1])
redis.call('HSET', KEYS[2], ARGV[1], item[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2] .. '|' .. item[2])
return item[1]
"""

# The round's dupefilter and the queue in one step: a fingerprint is recorded only with its request
# queued. (scrapy-redis records the fingerprint, then pushes: a worker killed between the two left
# a fingerprint whose request was never queued, and the rescued page that had found it was then
# re-parsed by another worker into a "duplicate", dropped.)
_PUSH_UNSEEN = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

_ACK = """
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('HDEL', KEYS[2], ARGV[1])
"""

# Put back every parked request whose worker has no live heartbeat key.
_REQUEUE = """
local owners = redis.call('HGETALL', KEYS[3])
local requeued = 0
for i = 1, #owners, 2 do
  local token = owners[i]
  local value = owners[i + 1]
  local sep = string.find(value, '|', 1, true)
  local worker = string.sub(value, 1, sep - 1)
  local score = string.sub(value, sep + 1)
  if redis.call('EXISTS', ARGV[1] .. worker) == 0 then
    local data = redis.call('HGET', KEYS[2], token)
    if data then
      redis.call('ZADD', KEYS[1], score, data)
      requeued = requeued + 1
    end
    redis.call('HDEL', KEYS[2], token)
    redis.call('HDEL', KEYS[3], token)
  end
end
return requeued
"""


def worker_id() -> str:
    """This process's worker id: host, pid and a random part (pids are reused)."""
    return _WORKER_ID


class ReliablePriorityQueue(PriorityQueue):
    """PriorityQueue whose pop parks the request until `ack(token)`."""

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        base = self.key.rsplit(":", 1)[0]  # <prefix>:<outlet>
        self.processing_key = f"{base}:processing"
        self.owners_key = f"{base}:processing:owner"
        prefix = base.rsplit(":", 1)[0]
        self.heartbeat_prefix = heartbeat_prefix(prefix)
        self.inflight: dict[str, Request] = {}  # token -> the Request object the engine holds
        self._pop = server.register_script(_POP)
        self._push_unseen = server.register_script(_PUSH_UNSEEN)
        self._ack = server.register_script(_ACK)
        self._requeue = server.register_script(_REQUEUE)

    def push_unseen(self, request: Request, fingerprint: str, dupefilter_key: str) -> bool:
        """Queue `request` unless `fingerprint` is in the round's dupefilter, and record it
        there, atomically; whether it was queued."""
        data = self._encode_request(request)
        return bool(self._push_unseen(keys=[dupefilter_key, self.key], args=[fingerprint, -request.priority, data]))

    def pop(self, timeout: int = 0) -> Request | None:
        token = uuid.uuid4().hex
        data = self._pop(keys=[self.key, self.processing_key, self.owners_key], args=[token, worker_id()])
        if not data:
            return None
        request = self._decode_request(data)
        self.inflight[token] = request
        log.debug("took %s %s", token, request.url)
        return request

    def ack(self, token: str) -> None:
        self._ack(keys=[self.processing_key, self.owners_key], args=[token])
        self.inflight.pop(token, None)

    def in_processing(self) -> int:
        return int(self.server.hlen(self.processing_key))

    def requeue_orphans(self) -> int:
        """Requests parked by workers that stopped heartbeating, put back; how many."""
        return int(self._requeue(keys=[self.key, self.processing_key, self.owners_key], args=[self.heartbeat_prefix]))

    def clear(self) -> None:
        super().clear()
        self.server.delete(self.processing_key, self.owners_key)
