#!/usr/bin/env python3
"""A Fashion-MNIST "mirror" on 127.0.0.1 that misbehaves on purpose (issue #17, downloads).

    hostile_mirror.py PORT MODE

MODE (every path gets the same treatment):
  endless       200, no Content-Length, a valid gzip stream that never ends: an IDX header, then stored
                (uncompressed) deflate blocks of zeros forever, at ~8 MB/s (so a client without a size cap
                fills the disk slowly, not in seconds)
  drip          200, the real file's Content-Length, then its real bytes one every 2 s
  huge-length   200, Content-Length: 10**12, then the real file's bytes at 4 KiB/s
  redirect-loop 302 to the same URL, forever
  slow          200, the real file's Content-Length and bytes at 64 KiB/s (for the Ctrl-C test)

The bodies are valid gzip (the real files, read from $HOSTILE_MIRROR_DATA, default
/usr/share/datasets/fashion-mnist, or an IDX-looking gzip made up when a file is not there), so a client
that checks the stream as it arrives must rely on its limits, not on a bad first byte.

Listens on 127.0.0.1 only. Prints "listening PORT MODE" on stdout once ready. Stop it with SIGTERM.
"""
import http.server
import signal
import socketserver
import sys
import os
import struct
import time
import zlib

DATA = os.environ.get("HOSTILE_MIRROR_DATA", "/usr/share/datasets/fashion-mnist")


def real_body(path):
    """The real file of that name, or a made-up gzip of an IDX header and zeros."""
    name = os.path.basename(path.split("?")[0])
    try:
        with open(os.path.join(DATA, name), "rb") as f:
            return f.read()
    except OSError:
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        return c.compress(struct.pack(">IIII", 0x803, 60000, 28, 28) + bytes(60000 * 784)) + c.flush()


def endless_gzip():
    """A gzip header and an IDX header, then 64 KiB stored deflate blocks of zeros, forever."""
    c = zlib.compressobj(0, zlib.DEFLATED, 31)
    yield c.compress(struct.pack(">IIII", 0x803, 60000, 28, 28)) + c.flush(zlib.Z_SYNC_FLUSH)
    zeros = bytes(65000)
    while True:
        yield c.compress(zeros) + c.flush(zlib.Z_SYNC_FLUSH)

MODES = ("endless", "drip", "huge-length", "redirect-loop", "slow")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "endless"

    def log_message(self, fmt, *args):  # quiet: the driver reads our stdout
        sys.stderr.write("mirror[%s] %s\n" % (self.mode, fmt % args))

    def _send(self, pieces, interval):
        try:
            for piece in pieces:
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(interval)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client gave up: that is what we measure

    @staticmethod
    def _chunks(body, size):
        return (body[i:i + size] for i in range(0, len(body), size))

    def do_GET(self):
        mode = self.mode
        if mode == "redirect-loop":
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = real_body(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "endless":
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self._send(endless_gzip(), 65000 / 8e6)  # ~8 MB/s, forever
        elif mode == "drip":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._send(self._chunks(body, 1), 2.0)
        elif mode == "huge-length":
            self.send_header("Content-Length", str(10 ** 12))
            self.end_headers()
            self._send(self._chunks(body, 4096), 1.0)
        elif mode == "slow":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._send(self._chunks(body, 8192), 8192 / 65536)
        else:
            self.send_error(500, "unknown mode")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in MODES:
        sys.exit("usage: hostile_mirror.py PORT " + "|".join(MODES))
    port, mode = int(sys.argv[1]), sys.argv[2]
    Handler.mode = mode
    server = Server(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print("listening %d %s" % (server.server_address[1], mode), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
