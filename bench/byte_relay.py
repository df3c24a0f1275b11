#!/usr/bin/env python3
"""A TCP relay that counts the bytes clients send through it (bench/run-upload, "bytes re-sent
after SIGKILL"). Usage: byte_relay.py TARGET_PORT COUNT_FILE. Listens on an ephemeral port of
127.0.0.1, prints it, forwards every connection to 127.0.0.1:TARGET_PORT and keeps the total of
client-to-server bytes in COUNT_FILE (rewritten as it grows). Stops on SIGTERM."""
import asyncio
import sys

target_port = int(sys.argv[1])
count_file = sys.argv[2]
total = 0


def record():
    with open(count_file, "w") as f:
        f.write(f"{total}\n")


async def pipe(reader, writer, count):
    global total
    try:
        while True:
            data = await reader.read(1 << 20)
            if not data:
                break
            if count:
                total += len(data)
                record()
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer, True),
                         pipe(server_reader, client_writer, False))


async def main():
    record()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
