"""The intake's listening socket: every connection it accepts sends without waiting on Nagle's algorithm.

Without TCP_NODELAY, uvicorn's response body (written after its head) waited for the sender's delayed ACK:
~40 ms added to every answer, and a sender's connection held that long per alert during a storm."""

from __future__ import annotations

import socket

import pytest

from intake.server import IntakeStartError, listening_socket


def test_accepted_connections_have_nagle_off() -> None:
    listener = listening_socket("127.0.0.1", 0)
    try:
        assert listener.proto == socket.IPPROTO_TCP  # what asyncio checks before it sets TCP_NODELAY itself
        listener.listen()
        with socket.create_connection(listener.getsockname()) as sender:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                sender.sendall(b"x")
                assert accepted.recv(1) == b"x"
    finally:
        listener.close()


def test_a_taken_port_names_the_address() -> None:
    taken = listening_socket("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        taken.listen()
        with pytest.raises(IntakeStartError, match=f"127.0.0.1:{port}"):
            listening_socket("127.0.0.1", port)
    finally:
        taken.close()
