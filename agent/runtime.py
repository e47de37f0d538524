"""Facts about the process and machine that both the service and the engine need.

Kept apart so neither has to import the other for them: the detection helper process (engine) tunes
malloc like the agent (service), and both size their work by the CPUs this process may run on.
"""

import os

CPUS = len(os.sched_getaffinity(0))    # the CPUs this process may run on


# glibc malloc serves blocks above a (dynamic) threshold with mmap and gives freed memory at the top of
# the heap back to the kernel; a 1 MB body then costs its copies in fresh pages: ~1,000 page faults
# (~1 us each) per request measured on the echo agent. Keeping freed memory for the next request
# (the heap stays at its high-water mark, a few times the largest body) avoids them.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def tune_malloc() -> bool:
    """Keep large freed blocks in the process for reuse (glibc only; elsewhere a no-op)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)     # glibc's maximum: blocks up to 32 MiB
    ok &= mallopt(_M_TRIM_THRESHOLD, 256 * 1024 * 1024)   # give memory back only above 256 MiB free
    ok &= mallopt(_M_TOP_PAD, 16 * 1024 * 1024)
    return bool(ok)
