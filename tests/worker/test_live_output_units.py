"""The live output stream, the shipper and the event readers, without a database or a process."""
from __future__ import annotations

import asyncio
import json
from typing import Any

from pgswarm.client.transcript import TranscriptRenderer, render
from pgswarm.worker.errors import DatabaseDown
from pgswarm.worker.events import Progress, parse_line
from pgswarm.worker.live_output import MAX_PENDING, OutputShipper, OutputStream


class FlakyDatabase:
    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.connected.set()
        self.batches: list[list[dict[str, Any]]] = []

    @property
    def down(self) -> bool:
        return not self.connected.is_set()

    @down.setter
    def down(self, value: bool) -> None:
        if value:
            self.connected.clear()
        else:
            self.connected.set()

    async def ship_output(self, batch: list[dict[str, Any]]) -> int:
        if self.down:
            raise DatabaseDown("connection refused")
        self.batches.append(batch)
        return len(batch)


def test_a_stream_ships_text_with_offsets_keeps_split_characters_and_makes_nul_storable() -> None:
    stream = OutputStream(7, 1)
    data = "héllo\x00 wörld\n".encode()
    stream.write(data[:2])  # the é is split across two reads
    first = stream.take(0.0)
    stream.write(data[2:])
    second = stream.take(0.0)
    assert first is not None and second is not None
    assert first["chunk"] + second["chunk"] == "héllo\u2400 wörld\n"
    assert (first["offset"], second["offset"]) == (0, len(first["chunk"].encode()))
    assert stream.take(0.0) is None


def test_a_loud_stream_keeps_the_newest_and_says_what_it_left_out() -> None:
    stream = OutputStream(7, 1)
    for i in range(20):
        stream.write(f"{i:02d}".encode() * (MAX_PENDING // 8))
    item = stream.take(0.0)
    assert item is not None
    assert item["chunk"].startswith("[pgswarm: ") and "bytes of output not shipped live" in item["chunk"]
    assert item["chunk"].endswith("19" * 10)
    assert len(item["chunk"]) < MAX_PENDING + 200


def test_the_database_away_never_blocks_and_loses_nothing_it_can_keep() -> None:
    async def scenario() -> list[str]:
        db = FlakyDatabase()
        shipper = OutputShipper(db)
        stream = shipper.open(3, 1)
        db.down = True
        stream.write(b"one\n")
        await asyncio.wait_for(shipper.ship(), 1)  # fails at once, keeps the text
        stream.write(b"two\n")
        db.down = False
        await shipper.ship()
        stream.write(b"three\n")
        await shipper.finish(stream)
        return [item["chunk"] for batch in db.batches for item in batch if "chunk" in item]

    assert "".join(asyncio.run(scenario())) == "one\ntwo\nthree\n"


def test_an_ended_attempt_waits_for_the_database_to_ship_its_last_output() -> None:
    async def scenario() -> list[str]:
        db = FlakyDatabase()
        shipper = OutputShipper(db)
        stream = shipper.open(3, 1)
        stream.write(b"one\n")
        await shipper.ship()
        stream.write(b"two\n")
        db.down = True
        finishing = asyncio.create_task(shipper.finish(stream))
        for _ in range(10):  # turns of the event loop: the call failed, the stream waits
            await asyncio.sleep(0)
        assert not finishing.done(), "the report waits for the database anyway: so does its last output"
        db.down = False
        await asyncio.wait_for(finishing, 5)
        assert shipper.streams == {}
        return [item["chunk"] for batch in db.batches for item in batch if "chunk" in item]

    assert "".join(asyncio.run(scenario())) == "one\ntwo\n"


def test_progress_of_a_claude_stream() -> None:
    progress = Progress()
    lines = [
        {"type": "system", "subtype": "init", "session_id": "s", "model": "claude-sonnet-4-5"},
        {"type": "assistant", "message": {"content": [{"type": "text", "text": "Looking."},
                                                      {"type": "tool_use", "name": "Bash",
                                                       "input": {"command": "pytest -x tests/"}}],
                                          "usage": {"input_tokens": 100, "output_tokens": 20}}},
        {"type": "user", "message": {"content": [{"type": "tool_result", "content": "1 passed"}]}},
    ]
    for line in lines:
        for event in parse_line(json.dumps(line)):
            progress.add(event)
    assert progress.to_json() == {"turns": 1, "input_tokens": 100, "output_tokens": 20, "cost_usd": None,
                                  "tool": "Bash pytest -x tests/", "message": "Looking."}
    for event in parse_line(json.dumps({"type": "result", "subtype": "success", "result": "Done.", "num_turns": 2,
                                        "total_cost_usd": 0.5, "usage": {"input_tokens": 300,
                                                                         "output_tokens": 40}})):
        progress.add(event)
    assert (progress.turns, progress.cost_usd, progress.input_tokens, progress.tool, progress.message) == (
        2, 0.5, 300, None, "Done.")


def test_progress_of_codex_and_gemini_streams() -> None:
    codex = Progress()
    for line in ({"type": "thread.started", "thread_id": "t"}, {"type": "turn.started"},
                 {"type": "item.started", "item": {"type": "command_execution", "command": "ls"}},
                 {"type": "item.completed", "item": {"type": "agent_message", "text": "Added the test."}},
                 {"type": "turn.completed", "usage": {"input_tokens": 2400, "output_tokens": 310}}):
        for event in parse_line(json.dumps(line)):
            codex.add(event)
    assert (codex.turns, codex.input_tokens, codex.output_tokens, codex.message) == (1, 2400, 310, "Added the test.")
    gemini = Progress()
    for line in ({"type": "init", "session_id": "g", "model": "gemini-2.5-pro"},
                 {"type": "message", "role": "assistant", "content": "Refac", "delta": True},
                 {"type": "message", "role": "assistant", "content": "tored.", "delta": True},
                 {"type": "tool_use", "tool_name": "read_file", "parameters": {"path": "a.py"}},
                 {"type": "result", "status": "success", "stats": {"input_tokens": 50, "output_tokens": 5}}):
        for event in parse_line(json.dumps(line)):
            gemini.add(event)
    assert (gemini.message, gemini.input_tokens, gemini.output_tokens) == ("Refactored.", 50, 5)


def test_a_transcript_shows_text_tools_results_and_cost_and_passes_other_lines() -> None:
    stream = "\n".join([
        "plain text from a script",
        json.dumps({"type": "system", "subtype": "init", "session_id": "s1", "model": "claude-sonnet-4-5"}),
        json.dumps({"type": "assistant", "message": {"content": [
            {"type": "text", "text": "I will run the tests."},
            {"type": "tool_use", "name": "Bash", "input": {"command": "pytest " + "x" * 300}}]}}),
        json.dumps({"type": "user", "message": {"content": [{"type": "tool_result", "content": "3 passed"}]}}),
        json.dumps({"type": "result", "subtype": "success", "result": "All green.", "num_turns": 2,
                    "total_cost_usd": 0.0127, "usage": {"input_tokens": 10, "output_tokens": 5}}),
    ]) + "\n"
    lines = render(stream).splitlines()
    assert lines[0] == "plain text from a script"
    assert lines[1] == "── session s1 model claude-sonnet-4-5"
    assert lines[2] == "assistant: I will run the tests."
    assert lines[3].startswith("→ Bash(pytest xxx") and lines[3].endswith("…)") and len(lines[3]) < 140
    assert lines[4] == "  ← 3 passed"
    assert lines[5] == "── result: All green."
    assert lines[6] == "   cost $0.0127 · 2 turns · tokens 10 in / 5 out"
    renderer = TranscriptRenderer()  # streamed in pieces, the same
    pieces = [stream[i:i + 7] for i in range(0, len(stream), 7)]
    assert "".join(renderer.feed(p) for p in pieces) + renderer.finish() == render(stream)
