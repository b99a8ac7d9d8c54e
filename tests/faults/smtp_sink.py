#!/usr/bin/env python3
"""A loopback SMTP sink for the fault-injection runs: stores every message it
accepts as a file (so it can be killed and restarted, like a relay going down),
and can pause a little before each reply so a kill lands mid-delivery.

usage: smtp_sink.py PORT DIR [--delay-ms N]
"""
import asyncio
import os
import sys


async def session(reader, writer, out_dir, delay):
    try:
        await converse(reader, writer, out_dir, delay)
    except (ConnectionError, asyncio.IncompleteReadError):
        pass  # a client killed mid-session


async def converse(reader, writer, out_dir, delay):
    async def reply(line):
        writer.write(line.encode() + b"\r\n")
        await writer.drain()

    await reply("220 127.0.0.1 pulse fault sink ESMTP")
    while True:
        raw = await reader.readline()
        if not raw:
            break
        verb = raw.decode("latin-1").strip().split(" ", 1)[0].upper()
        if verb == "EHLO":
            await reply("250-127.0.0.1 greets you")
            await reply("250 SIZE 10485760")
        elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
            await reply("250 2.0.0 ok")
        elif verb == "DATA":
            await reply("354 end data with <CR><LF>.<CR><LF>")
            lines = []
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line in (b".\r\n", b".\n"):
                    break
                lines.append(line[1:] if line.startswith(b".") else line)
            if delay:
                await asyncio.sleep(delay)
            # Kept before the reply, as a relay does: a client killed now has
            # handed the message over without knowing it.
            name = os.path.join(out_dir, f"{os.getpid()}-{next(COUNTER):06d}.eml")
            with open(name + ".tmp", "wb") as f:
                f.write(b"".join(lines))
            os.rename(name + ".tmp", name)
            await reply("250 2.0.0 queued")
        elif verb == "QUIT":
            await reply("221 2.0.0 bye")
            break
        else:
            await reply("502 5.5.2 not implemented")
    writer.close()


def counter():
    n = 0
    while True:
        n += 1
        yield n


COUNTER = counter()


async def main():
    port, out_dir = int(sys.argv[1]), sys.argv[2]
    delay = 0.0
    if "--delay-ms" in sys.argv:
        delay = int(sys.argv[sys.argv.index("--delay-ms") + 1]) / 1000
    os.makedirs(out_dir, exist_ok=True)
    server = await asyncio.start_server(
        lambda r, w: session(r, w, out_dir, delay), "127.0.0.1", port, reuse_address=True
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
