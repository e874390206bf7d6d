"""Send one command to the demo's HAProxy Runtime API and print the answer (for hosts without socat).

python examples/shop/runtime_api.py "show servers state shop"
python examples/shop/runtime_api.py "get weight shop/eu" --socket .warroom/demo/haproxy.sock
"""

from __future__ import annotations

import argparse
import socket


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", help='e.g. "show servers state shop"')
    parser.add_argument("--socket", default=".warroom/demo/haproxy.sock", help="the stats socket's path")
    arguments = parser.parse_args()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(arguments.socket)
        connection.sendall(arguments.command.encode() + b"\n")
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    print(b"".join(chunks).decode(errors="replace"), end="")


if __name__ == "__main__":
    main()
