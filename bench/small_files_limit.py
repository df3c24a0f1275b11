#!/usr/bin/env python3
"""The machine's own limit for many small files (bench/run-download, case C): copies every file
of SOURCE_DIR into DEST_DIR with no network, the local work a durable download of each does.
Usage: small_files_limit.py SOURCE_DIR DEST_DIR MODE, MODE one of
  cache    write each file as NAME.part, rename it to NAME (what curl does, minus the network)
  durable  the same with an fdatasync of each file before its rename and one fsync of DEST_DIR
           at the end (the least a client can do so every file survives a power loss, and
           still less than xfer: no journal, no verification)
The source files are read into memory first; only the writing is timed, and printed as MB/s
on stdout."""
import os
import sys
import time

source, dest, mode = sys.argv[1], sys.argv[2], sys.argv[3]
if mode not in ("cache", "durable"):
    sys.exit(f"small_files_limit.py: MODE is cache or durable, not {mode!r}")
names = sorted(os.listdir(source))
contents = []
for name in names:
    with open(os.path.join(source, name), "rb") as f:
        contents.append(f.read())
start = time.monotonic()
for name, data in zip(names, contents):
    part = os.path.join(dest, name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if mode == "durable":
            os.fdatasync(fd)
    finally:
        os.close(fd)
    os.rename(part, os.path.join(dest, name))
if mode == "durable":
    fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
elapsed = time.monotonic() - start
print(f"{sum(len(c) for c in contents) / elapsed / 1e6:.1f}")
