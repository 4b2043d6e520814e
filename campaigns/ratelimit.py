"""The pace of sends, shared by every worker through Redis: a rate per channel account (GCRA, on Redis's own
clock so that workers' clocks do not matter), the platform's one message per person every few seconds, and a
slow-down window that a rate-limit error (130429, 131056, Messenger's 613, X's 429) opens with its Retry-After,
and a cap on an account's sends in any 24 hours (X's daily DM limit).

The platform counts messages as they reach it, in any one-second window. A send given its slot at time t
reaches the platform a little later, by a delay that varies from send to send (a worker woken late, the
kernel, the network). Slots are therefore spaced so that any cap + 1 consecutive slots span one second plus
ARRIVAL_JITTER_MS, no burst allowed, and a worker that wakes up later than LATE_MS after its slot takes a
new one instead of sending late: then no one-second window at the platform holds more than the cap as long
as those delays differ by less than the margin. The price is the margin: at most 1000 / (1000 + 30) = 97 %
of the cap is used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from inbox import broker

PAIR_SECONDS = 6  # WhatsApp: one message to the same person every 6 seconds (fixtures README, "pair rate")
ARRIVAL_JITTER_MS = 30
LATE_MS = 10

# One round trip per send, atomic: the account's slow-down window, the person's pair window, then a slot.
# GCRA with reservation: the slot is the account's "theoretical arrival time" (tat, in microseconds of Redis's
# clock), which moves one interval on; the caller sleeps until its slot. The person's key is held while the
# send is in flight, so that two campaigns never reach the same person at once.
# Returns {0, microseconds until the slot} | {1, ms of slow-down left} | {2, ms until the person may receive}.
# With KEYS[4] and KEYS[5] it first records the loop's previous send (what `sent` does: that person's pair
# window from now on, one more send in its second), saving the loop a round trip per send.
_TAKE = """
if KEYS[4] then
  redis.call('SET', KEYS[4], 1, 'PX', tonumber(ARGV[3]))
  redis.call('INCR', KEYS[5])
  redis.call('EXPIRE', KEYS[5], 120)
end
local slow = redis.call('PTTL', KEYS[2])
if slow > 0 then return {1, slow} end
local pair = redis.call('PTTL', KEYS[3])
if pair > 0 then return {2, pair} end
if pair == -1 then return {2, 1000} end
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now_us then tat = now_us end
local following = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', following), 'PX', math.ceil((following - now_us) / 1000) + 1000)
redis.call('SET', KEYS[3], 1, 'PX', tonumber(ARGV[2]))
return {0, tat - now_us}
"""


# The sends of an account in the last 24 hours (a sorted set of send times, on Redis's clock): a platform's
# daily cap is a rolling window (X: 15,000 DMs per 24 h). Returns 0 and counts the send, or the ms until the
# oldest send of the window is 24 h old and frees its place.
_DAILY = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now_ms)
end
local id = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], now_ms, id)
redis.call('PEXPIRE', KEYS[1], window)
redis.call('PEXPIRE', KEYS[2], window)
return 0
"""
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Slot:
    """What the limiter said: `kind` is "go" (sleep `wait` seconds, then send), "slowed" (the account is
    slowed down for `wait` seconds) or "pair" (the person may receive again in `wait` seconds)."""

    kind: str
    wait: float


def _script():
    connection = broker.connection()
    cached = getattr(connection, "_campaign_take", None)
    if cached is None:
        cached = connection.register_script(_TAKE)
        connection._campaign_take = cached
    return cached


def take_daily(account_id: int, cap: int) -> float:
    """Count one send against the account's cap for any 24 hours: 0.0 when it may go, else the seconds until
    a place frees (nothing is counted then)."""
    connection = broker.connection()
    script = getattr(connection, "_campaign_daily", None)
    if script is None:
        script = connection._campaign_daily = connection.register_script(_DAILY)
    wait_ms = script(keys=[_daily_key(account_id), _daily_key(account_id) + ":id"], args=[cap, DAY_MS])
    return int(wait_ms) / 1000


def interval_us(rate_per_second: float) -> int:
    """Microseconds between two slots of an account sending at `rate_per_second` at most."""
    return max(1, round((1000 + ARRIVAL_JITTER_MS) * 1000 / rate_per_second))


@dataclass(frozen=True)
class Sent:
    """A send that reached its person, not yet told to Redis: `sent` later, or with the loop's next `take`.

    Until then the person's key still holds the pair window that `take` set for the whole send (the longest
    a send can last), so the delay only starts their six seconds a little later, never earlier; a worker killed
    meanwhile leaves that longer window and one send uncounted in the progress rate."""

    account_id: int
    address: str
    campaign_id: int
    second: int


def take(
    account_id: int, address: str, rate_per_second: float, hold_seconds: float, previous: Sent | None = None
) -> Slot:
    """Reserve the next send slot of the account for a message to `address` (and the person's pair window for
    `hold_seconds`, the longest a send can last), unless the account is slowed down or the person was sent a
    message less than PAIR_SECONDS ago; records the `previous` send first, in the same round trip."""
    keys = [_rate_key(account_id), _slow_key(account_id), _pair_key(account_id, address)]
    args = [interval_us(rate_per_second), max(1, int(hold_seconds * 1000))]
    if previous is not None:
        keys += [_pair_key(previous.account_id, previous.address), _sent_key(previous.campaign_id, previous.second)]
        args.append(PAIR_SECONDS * 1000)
    kind, wait = _script()(keys=keys, args=args)
    if kind == 0:
        return Slot("go", wait / 1_000_000)
    return Slot("slowed" if kind == 1 else "pair", wait / 1000)


def send_at_slot(slot: Slot, account_id: int, address: str, rate_per_second: float, hold_seconds: float) -> Slot:
    """Sleep until the slot; when woken later than LATE_MS after it (a loaded machine), take a new one rather
    than send late (a late send would arrive too close to the following ones). Returns the slot to send in
    (kind "go", its wait spent) or a refusal of `take`."""
    while slot.kind == "go":
        due = time.monotonic() + slot.wait
        if slot.wait > 0:
            time.sleep(slot.wait)
        if time.monotonic() - due <= LATE_MS / 1000:
            return Slot("go", 0.0)
        release_pair(account_id, address)
        slot = take(account_id, address, rate_per_second, hold_seconds)
    return slot


def slow_down(account_id: int, seconds: float) -> None:
    """Pause every worker's sends on the account for `seconds` (a rate-limit answer from the platform)."""
    broker.connection().set(_slow_key(account_id), 1, px=max(1, int(seconds * 1000)))


def sent(account_id: int, address: str, campaign_id: int, second: int | None = None) -> None:
    """A message reached the person: the next one waits PAIR_SECONDS from now (the answer came after it
    arrived, so the platform's six seconds are kept); and one more send in this second of the campaign
    (`second`: when the answer came, if told later)."""
    second = int(time.time()) if second is None else second
    pipe = broker.connection().pipeline(transaction=False)
    pipe.set(_pair_key(account_id, address), 1, px=PAIR_SECONDS * 1000)
    pipe.incr(_sent_key(campaign_id, second))
    pipe.expire(_sent_key(campaign_id, second), 120)
    pipe.execute()


def flush(previous: Sent | None) -> None:
    """Tell Redis of a send kept for the next `take`, when there is no next take (the loop waits or ends)."""
    if previous is not None:
        sent(previous.account_id, previous.address, previous.campaign_id, previous.second)


def release_pair(account_id: int, address: str) -> None:
    """The message did not go (refused, not sent): the person's window is free again."""
    broker.connection().delete(_pair_key(account_id, address))


def pair_wait(account_id: int, address: str) -> int:
    """Milliseconds until the person may receive another message (0: now)."""
    return max(0, int(broker.connection().pttl(_pair_key(account_id, address))))


def recent_rate(campaign_id: int, seconds: int = 10) -> float:
    """The campaign's sends per second over the last `seconds` whole seconds, from the counters of `sent`."""
    now = int(time.time())
    counts = broker.connection().mget([_sent_key(campaign_id, now - 1 - i) for i in range(seconds)])
    return round(sum(int(c or 0) for c in counts) / seconds, 2)


def _rate_key(account_id: int) -> str:
    return f"campaigns:rate:{account_id}"


def _slow_key(account_id: int) -> str:
    return f"campaigns:slow:{account_id}"


def _pair_key(account_id: int, address: str) -> str:
    return f"campaigns:pair:{account_id}:{address}"


def _daily_key(account_id: int) -> str:
    return f"campaigns:daily:{account_id}"


def _sent_key(campaign_id: int, second: int) -> str:
    return f"campaigns:sent:{campaign_id}:{second}"
