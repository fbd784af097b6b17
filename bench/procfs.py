"""What /proc says about a process: CPU time, resident memory, and who listens on a port."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of the process (its threads included), or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def rss_mb(pid: int) -> float | None:
    """Resident set size in MiB, or None if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def pid_listening(port: int) -> int | None:
    """The process with a socket listening on 127.0.0.1/0.0.0.0:`port` (needs /proc access)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, state, inode = parts[1], parts[3], parts[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    if not inodes:
        return None
    targets = {f"socket:[{i}]" for i in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in targets:
                    return int(entry.name)
        except OSError:
            continue
    return None


@dataclass
class CpuWindow:
    """CPU share of some processes over a wall-clock window, as a fraction of one core."""

    pids: dict[str, int]
    start_wall: float = 0.0
    start_cpu: dict[str, float | None] | None = None

    def __post_init__(self) -> None:
        self.start_wall = time.monotonic()
        self.start_cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def shares(self) -> dict[str, float | None]:
        wall = time.monotonic() - self.start_wall
        assert self.start_cpu is not None
        out: dict[str, float | None] = {}
        for name, pid in self.pids.items():
            before, after = self.start_cpu[name], cpu_seconds(pid)
            out[name] = (
                None if before is None or after is None or wall <= 0 else (after - before) / wall
            )
        return out
