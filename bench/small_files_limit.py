#!/usr/bin/env python3
"""The machine's own limit for many small files (bench/run-download, case C): copies every file
of SOURCE_DIR into DEST_DIR with no network, the local work a durable download of each does.
Usage: small_files_limit.py SOURCE_DIR DEST_DIR MODE, MODE one of
  cache    write each file as NAME.part, rename it to NAME (what curl does, minus the network)
  durable  the same with an fdatasync of each file before its rename and one fsync of DEST_DIR
           at the end (the least a client can do so every file survives a power loss, and
           still less than xfer: no journal, no verification), one file at a time
  grouped  durable, in groups of 64 files as xfer's persist groups do: write every file of the
           group and start its writeback, then fdatasync each, rename each, and one fsync of
           DEST_DIR per group (the device works on many files' data at once)
The source files are read into memory first; only the writing is timed, and printed as MB/s
on stdout."""
import ctypes
import os
import sys
import time

source, dest, mode = sys.argv[1], sys.argv[2], sys.argv[3]
if mode not in ("cache", "durable", "grouped"):
    sys.exit(f"small_files_limit.py: MODE is cache, durable or grouped, not {mode!r}")
GROUP = 64
libc = ctypes.CDLL(None, use_errno=True)
libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
SYNC_FILE_RANGE_WRITE = 2
names = sorted(os.listdir(source))
contents = []
for name in names:
    with open(os.path.join(source, name), "rb") as f:
        contents.append(f.read())


def write_part(name, data):
    part = os.path.join(dest, name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return fd, part


def sync_dest():
    fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


start = time.monotonic()
if mode == "grouped":
    for first in range(0, len(names), GROUP):
        group = [write_part(n, d) for n, d in zip(names[first:first + GROUP], contents[first:first + GROUP])]
        for fd, _ in group:
            libc.sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)
        for fd, part in group:
            os.fdatasync(fd)
            os.close(fd)
            os.rename(part, part[:-len(".part")])
        sync_dest()
else:
    for name, data in zip(names, contents):
        fd, part = write_part(name, data)
        try:
            if mode == "durable":
                os.fdatasync(fd)
        finally:
            os.close(fd)
        os.rename(part, os.path.join(dest, name))
    if mode == "durable":
        sync_dest()
elapsed = time.monotonic() - start
print(f"{sum(len(c) for c in contents) / elapsed / 1e6:.1f}")
