"""The virtual clock the fake machine logs edges on (shared with fakes_time/time.py)."""

from boards.vclock import VirtualClock

clock = VirtualClock()
