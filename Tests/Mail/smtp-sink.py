#!/usr/bin/python3
"""An SMTP server on loopback that stores what it receives, for the mail
sender's tests (Tests/MarketplaceCLITests/MailDeliveryTests.swift).

Usage: smtp-sink.py --dir DIR [--port N] [--reject ADDRESS]...

Listens on 127.0.0.1 (port N, or a free one when 0), writes the port to
DIR/port once listening, and stores every message as DIR/NNNN.eml (raw) and
DIR/NNNN.json (envelope and parsed headers and parts). Recipients given with
--reject are refused at RCPT with 550 (a permanent rejection).
Needs Debian's python3-aiosmtpd.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import signal

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, directory, rejected):
        self.directory = directory
        self.rejected = {a.lower() for a in rejected}
        self.count = len([n for n in os.listdir(directory) if n.endswith(".json")])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.rejected:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() == "multipart":
                continue
            parts[part.get_content_type()] = {
                "charset": part.get_content_charset(),
                "text": part.get_content(),
            }
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_to": envelope.rcpt_tos,
            "headers": {k.lower(): str(v) for k, v in message.items()},
            "raw_headers": {k.lower(): v for k, v in message.raw_items()},
            "content_type": message.get_content_type(),
            "parts": parts,
        }
        self.count += 1
        base = os.path.join(self.directory, "%04d" % self.count)
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=1)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


async def main():
    # A child of a Swift test inherits the spawning thread's signal mask, where
    # SIGTERM may be blocked: unblock it, or the test could never stop us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reject", action="append", default=[])
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Store(args.dir, args.reject)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.localhost"), host="127.0.0.1", port=args.port, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    with open(os.path.join(args.dir, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(args.dir, "port.tmp"), os.path.join(args.dir, "port"))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
