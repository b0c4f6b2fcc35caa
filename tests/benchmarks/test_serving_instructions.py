"""The harness of `benchmarks/serving.py --instructions`: the command under callgrind, the
exact request count over real sockets, and reading a dump's total. Nothing runs valgrind."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))

instructions: ModuleType = importlib.import_module("peers.instructions")
servers: ModuleType = importlib.import_module("peers.servers")


def test_a_server_under_callgrind_counts_nothing_until_told(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(instructions.shutil, "which", lambda name: f"/opt/bin/{name}")
    server = servers.Server("minimal", lambda port: ["python", "app.py", "--port", str(port)], "/")
    command = instructions.under_callgrind(server, tmp_path).command(8000)
    assert command == [
        "/opt/bin/valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={tmp_path}/minimal.%p.out",
        "python",
        "app.py",
        "--port",
        "8000",
    ]


def test_without_valgrind_the_message_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="apt-get install valgrind"):
        instructions.valgrind_path()


def test_the_total_of_a_dump_is_its_summary_line() -> None:
    dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfn=main\n5 10\nsummary: 1234567\n"
    assert instructions._total(dump) == 1234567
    assert instructions._total(dump.replace("summary:", "totals:")) == 1234567
    with pytest.raises(SystemExit, match="without a total"):
        instructions._total("events: Ir\n")


def test_exactly_the_requests_asked_for_are_sent_over_the_connections() -> None:
    answered: list[bytes] = []
    peers: set[int] = set()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.add(writer.get_extra_info("peername")[1])
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                answered.append(await reader.readexactly(length))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except asyncio.IncompleteReadError:  # the client is done
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        raw = [b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\n" + bytes([65 + k]) for k in range(3)]
        await instructions._send(port, raw, 25, 4)
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    assert len(answered) == 25 and set(answered) == {b"A", b"B", b"C"}
    assert len(peers) == 4


def test_an_answer_other_than_200_stops_the_count() -> None:
    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            await reader.read()  # until the client closes
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(refuse, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await instructions._send(port, [b"GET / HTTP/1.1\r\n\r\n"], 3, 1)
        finally:
            server.close()
            await server.wait_closed()

    with pytest.raises(SystemExit, match="503"):
        asyncio.run(main())
