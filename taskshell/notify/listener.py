"""`taskshell webhook-listen`: a small receiver on 127.0.0.1 that prints every request it gets.

It stands in for the public webhook tester of the Databend guide, so integrations can be tried
without leaving the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def format_request(method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> str:
    """What the listener prints for one request: the request line, headers, then the body
    (pretty JSON when it parses)."""
    lines = [f"{method} {path}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append("")
    text = body.decode("utf-8", "replace")
    try:
        lines.append(json.dumps(json.loads(text), indent=2, ensure_ascii=False))
    except ValueError:
        lines.append(text)
    return "\n".join(lines).rstrip() + "\n"


def make_server(port: int, out: TextIO, status: int = 200) -> ThreadingHTTPServer:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                out.write(format_request(self.command, self.path, list(self.headers.items()), body))
                out.write("-" * 60 + "\n")
                out.flush()
            reply = json.dumps({"received": True}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass  # the request itself is printed; the access log line would repeat it

    return ThreadingHTTPServer((HOST, port), Handler)


def main(argv: list[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="taskshell webhook-listen",
                                     description="Print every request sent to http://127.0.0.1:PORT/.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks one)")
    parser.add_argument("--status", type=int, default=200, help="HTTP status to answer with (default 200)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        server = make_server(args.port, out, args.status)
    except OSError as exc:
        print(f"taskshell webhook-listen: cannot listen on {HOST}:{args.port}: {exc.strerror}", file=err)
        return 2
    print(f"Listening on http://{HOST}:{server.server_address[1]}/ (Ctrl-C stops)", file=err, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
