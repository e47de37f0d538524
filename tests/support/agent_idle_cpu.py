"""The real agent (``python -m tests.support.agent_idle_cpu serve ...``) with the detection helper's
idle-CPU rule forced true.

Tests of the helper path behind real HAProxy (killed helper, pack reload) need the helper to be
used; the rule declines it while another task holds a CPU, so on a busy CI machine those tests
would wait forever. The rule itself is tested on its own (test_the_helper_is_used_only_with_a_cpu_to_spare).
"""

from __future__ import annotations

import sys

from agent.__main__ import main
from agent.engine import detect_helper

detect_helper.cpu_to_spare = lambda: True

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
