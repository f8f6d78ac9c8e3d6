"""This process's resident memory from /proc/self/status (Linux), as the kit's ProcessMemory reads it."""


def resident_bytes(field):
    """VmRSS (current) or VmHWM (peak) of this process, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")
