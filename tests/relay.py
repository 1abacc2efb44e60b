"""Taking a server away from the process under test without stopping the shared one (which every other
test, and every other checkout on the machine, is using): the process reaches it through a relay
that the test cuts and restores."""

import socket

import eventlet


class Relay:
    """A TCP relay to a real server (RabbitMQ unless told) on a port of its own. Down, nothing listens
    there (a URI that reaches no server) and every connection through it is cut (the server lost
    mid-run)."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5672)):
        self.target, self.server, self.acceptor = target, None, None
        self.pipes, self.links = eventlet.GreenPool(), []
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            self.port = free.getsockname()[1]

    def uri(self, uri: str) -> str:
        """``uri`` (of the target's port) through the relay."""
        return uri.replace(f":{self.target[1]}", f":{self.port}", 1)

    def up(self) -> None:
        if self.server is None:
            self.server = eventlet.listen(("127.0.0.1", self.port))
            self.acceptor = eventlet.spawn(self._accept)

    def down(self) -> None:
        if self.server is None:
            return
        self.acceptor.kill()
        for pipe in list(self.pipes.coroutines_running):
            pipe.kill()
        for sock in [self.server, *self.links]:  # the service sees its connection closed, as in an outage
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.server, self.links = None, []

    def _accept(self) -> None:
        while True:
            client, _ = self.server.accept()
            upstream = eventlet.connect(self.target)
            self.links += [client, upstream]
            self.pipes.spawn(self._pipe, client, upstream)
            self.pipes.spawn(self._pipe, upstream, client)

    @staticmethod
    def _pipe(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except (OSError, EOFError):  # the other side or down() closed it
            pass
