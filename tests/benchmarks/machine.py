"""The machine line every benchmark prints."""

import os
import platform
import sys
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> str:
    return (f"machine: {cpu_model()}, {os.cpu_count()} logical cores, "
            f"Python {sys.version.split()[0]} on {platform.platform()}")
