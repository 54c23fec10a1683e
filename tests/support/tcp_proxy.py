"""A TCP proxy that cuts the first connections after the request has arrived, then forwards:
what a client sees when a load balancer or the network fails mid-request."""

from __future__ import annotations

import select
import socket
import threading


class FlakyProxy:
    def __init__(self, upstream_port: int, drop_first: int) -> None:
        self.upstream_port = upstream_port
        self.drop_first = drop_first
        self.connections = 0
        self.requests_dropped = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = False
        self._open: set[socket.socket] = set()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._stopped = True
        # close() alone leaves a socket blocked in accept() listening on Linux.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()

    def _serve(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.connections <= self.drop_first:
                threading.Thread(target=self._drop, args=(conn,), daemon=True).start()
            else:
                threading.Thread(target=self._forward, args=(conn,), daemon=True).start()

    def _drop(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
            except OSError:
                return
            self.requests_dropped += 1

    def cut(self) -> None:
        """Breaks every forwarded connection, as a network failure would."""
        for sock in list(self._open):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _forward(self, conn: socket.socket) -> None:
        with conn, socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
            self._open.add(conn)
            peers = {conn: upstream, upstream: conn}
            try:
                while True:
                    readable, _, _ = select.select(list(peers), [], [], 30)
                    if not readable:
                        return
                    for sock in readable:
                        data = sock.recv(65536)
                        if not data:
                            return
                        peers[sock].sendall(data)
            except OSError:
                return
            finally:
                self._open.discard(conn)
