"""The pace of sends, shared by every worker through Redis: a rate per channel account (GCRA, on Redis's own
clock so that workers' clocks do not matter), the platform's one message per person every few seconds, and a
slow-down window that a rate-limit error (130429, 131056) opens with its Retry-After."""

from __future__ import annotations

from inbox import broker

# GCRA: each send moves the account's "theoretical arrival time" one interval on; a send may go when that time
# is at most one burst ahead of now. Returns how many milliseconds to wait (0: go now, counted).
_GCRA = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local slow = redis.call('PTTL', KEYS[2])
if slow > 0 then return slow end
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now_ms)
if tat < now_ms then tat = now_ms end
local wait = tat - burst - now_ms
if wait > 0 then return wait end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(tat + interval - now_ms + burst + 1000))
return 0
"""
PAIR_SECONDS = 6  # WhatsApp: one message to the same person every 6 seconds (fixtures README, "pair rate")


def _script():
    connection = broker.connection()
    cached = getattr(connection, "_campaign_gcra", None)
    if cached is None:
        cached = connection.register_script(_GCRA)
        connection._campaign_gcra = cached
    return cached


def wait_ms(account_id: int, rate_per_second: float) -> int:
    """Take a send slot of the account: 0 when taken, else milliseconds to wait before asking again."""
    interval = max(1, round(1000 / rate_per_second))
    burst = interval  # a burst of two at most: the platform's rate is a ceiling, not an average
    return int(_script()(keys=[f"campaigns:rate:{account_id}", f"campaigns:slow:{account_id}"], args=[interval, burst]))


def slow_down(account_id: int, seconds: float) -> None:
    """Pause every worker's sends on the account for `seconds` (a rate-limit answer from the platform)."""
    broker.connection().set(f"campaigns:slow:{account_id}", 1, px=max(1, int(seconds * 1000)))


def pair_wait(account_id: int, address: str) -> int:
    """Milliseconds until the person may receive another message (0: now)."""
    return max(0, int(broker.connection().pttl(_pair_key(account_id, address))))


def mark_pair(account_id: int, address: str) -> None:
    """A message reached the person: the next one waits PAIR_SECONDS (a refused call did not count)."""
    broker.connection().set(_pair_key(account_id, address), 1, px=PAIR_SECONDS * 1000)


def _pair_key(account_id: int, address: str) -> str:
    return f"campaigns:pair:{account_id}:{address}"
