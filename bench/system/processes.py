"""CPU time of a few named groups of processes over a stretch of time (psutil)."""

from __future__ import annotations

import time

import psutil


class ProcessCpu:
    """Reads each group's CPU time now; `percent()` says how much they used since."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = {name: [_process(pid) for pid in pids] for name, pids in groups.items()}
        self.start = time.monotonic()
        self.cpu = {name: _cpu(processes) for name, processes in self.groups.items()}

    def percent(self) -> dict[str, float]:
        """Each group's CPU since the start, in % of one core."""
        dt = time.monotonic() - self.start
        return {name: 100 * (_cpu(ps) - self.cpu[name]) / dt for name, ps in self.groups.items()}


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _cpu(processes: list[psutil.Process | None]) -> float:
    total = 0.0
    for process in processes:
        if process is None:
            continue
        try:
            times = process.cpu_times()
        except psutil.Error:  # it ended: what it used is lost, not an error
            continue
        total += times.user + times.system
    return total
