"""A local SMTP sink for Trailmap's tests: aiosmtpd listening on 127.0.0.1:PORT that writes every
message it receives to DIR as 1.eml, 2.eml, ... with, beside each, what a reader sees in it as
1.json (sender, recipients, subject, the plain-text and HTML parts decoded, the attachments) and
each attachment's bytes as 1-NAME; all renamed into place before it answers 250. It prints
"ready" once it accepts connections, and stops when its standard input closes.

    python3 smtp_sink.py PORT DIR
"""
import email
import email.policy
import itertools
import json
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        number = next(self.numbers)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "text": None,
            "html": None,
            "attachments": [],
        }
        for part in message.walk():
            if part.is_multipart():
                continue
            kind = part.get_content_type()
            name = part.get_filename()
            if name:
                data = part.get_payload(decode=True)
                path = os.path.join(self.folder, f"{number}-{os.path.basename(name)}")
                write(path, data)
                summary["attachments"].append({"name": name, "content_type": kind, "bytes": len(data), "path": path})
            elif kind == "text/plain":
                summary["text"] = part.get_content()
            elif kind == "text/html":
                summary["html"] = part.get_content()
        write(os.path.join(self.folder, f"{number}.json"), json.dumps(summary).encode())
        write(os.path.join(self.folder, f"{number}.eml"), raw)
        return "250 OK"


def write(path, data):
    with open(path + ".part", "wb") as f:
        f.write(data)
    os.rename(path + ".part", path)


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
    # start() returns once the server answers a connection.
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
