"""A worker (`python -m inbox.worker`) under cProfile on the process's CPU clock, not the wall clock: where a
send's CPU goes, waits left out. `python -m bench.profiled_worker <profile file>`; the bench starts it for
BENCH_CAMPAIGN_PROFILE."""

import cProfile
import sys
import time

from inbox.worker import main

if __name__ == "__main__":
    profile = cProfile.Profile(time.process_time)
    try:
        profile.runcall(main)
    finally:
        profile.dump_stats(sys.argv[1])
