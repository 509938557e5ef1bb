"""JT/T 808 TCP gateway: truck terminals report to the city directly.

A terminal registers (0x0100: plate and colour; answered by 0x8100 with an authentication
code), authenticates (0x0102), then sends positions (0x0200, 0x0704 batches) and
heartbeats (0x0002). Every message is answered with 0x8001; positions are acknowledged
only once they are stored, so a terminal re-sends what the hub did not keep. Frames that
cannot be decoded are dead-lettered with the codec's reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from coalhub.identifiers import JTT415_COLOURS, PlateColour
from coalhub.models import PositionSource
from coalhub.models.connector import ConnectorTerminal
from connectors import jt808
from connectors.base import ConnectorContext, Reject
from connectors.fields import plausible_plate
from connectors.position_writer import PositionWriter
from connectors.positions import Bounds, PositionRecord, from_jt808_location
from connectors.store import dialect_insert, table_of
from connectors.tcp import peer_host, read_some, send, serve_tcp

_terminal = table_of(ConnectorTerminal)

# 0x8001 results
OK, FAILURE, MESSAGE_ERROR, UNSUPPORTED = 0, 1, 2, 3
# 0x8100 result: the vehicle is not known (here: no usable plate)
NO_SUCH_VEHICLE = 2
TERMINAL_GENERAL_REPLY = 0x0001
LOGOUT = 0x0003


@dataclass(frozen=True)
class JT808GatewayConfig:
    host: str = "0.0.0.0"  # noqa: S104 - terminals connect from the mobile network
    port: int = 7808
    idle_timeout: float = 300.0  # a terminal sends a heartbeat at least this often
    require_authentication: bool = True
    skip_unpositioned: bool = True  # fixes without the "positioned" status bit
    bounds: Bounds = field(default_factory=Bounds)


@dataclass(frozen=True, slots=True)
class Binding:
    plate: str
    colour: PlateColour


Decoded = jt808.Frame | jt808.JT808DecodeError


def cut_frames(buffer: bytes) -> tuple[list[tuple[bytes, Decoded]], bytes, bytes]:
    """Cut a byte stream into flag-delimited frames, each decoded or with its error.

    Returns (frames, rest, garbage): `rest` is an unfinished frame to prepend to the next
    read, `garbage` the bytes outside any frame."""
    frames: list[tuple[bytes, Decoded]] = []
    garbage = bytearray()
    position = 0
    while (start := buffer.find(jt808.FLAG, position)) != -1:
        garbage += buffer[position:start]
        end = buffer.find(jt808.FLAG, start + 1)
        if end == -1:
            rest = buffer[start:]
            if len(rest) > jt808.MAX_FRAME_BYTES:
                return frames, b"", bytes(garbage + rest)
            return frames, rest, bytes(garbage)
        if end == start + 1:  # two flags in a row: a closing flag, then an opening one
            position = end
            continue
        candidate = buffer[start : end + 1]
        try:
            frames.append((candidate, jt808.decode_frame(candidate)))
            position = end + 1
        except jt808.JT808DecodeError as error:
            frames.append((candidate, error))
            position = end  # the closing flag of a broken frame may open the next one
    garbage += buffer[position:]
    return frames, b"", bytes(garbage)


class JT808Gateway:
    kind = "transport"

    def __init__(self, name: str, config: JT808GatewayConfig) -> None:
        self.name = name
        self.config = config

    async def run(self, ctx: ConnectorContext) -> None:
        async with PositionWriter(ctx, bounds=self.config.bounds) as writer:

            async def handle(reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> None:
                await _Session(self, ctx, writer, reader, stream).run()

            await serve_tcp(ctx, self.config.host, self.config.port, handle)


class _Session:
    def __init__(
        self,
        gateway: JT808Gateway,
        ctx: ConnectorContext,
        writer: PositionWriter,
        reader: asyncio.StreamReader,
        stream: asyncio.StreamWriter,
    ) -> None:
        self.gateway = gateway
        self.config = gateway.config
        self.ctx = ctx
        self.writer = writer
        self.reader = reader
        self.stream = stream
        self.peer = peer_host(stream)
        self.binding: Binding | None = None
        self.authenticated = False
        self._seq = 0
        self._fragments = _Fragments()

    async def run(self) -> None:
        buffer = b""
        while True:
            data = await read_some(self.reader, self.config.idle_timeout)
            if not data:
                rejects = self._fragments.abandon(self.locator)
                if buffer:  # the connection dropped in the middle of a frame
                    rejects.append(
                        Reject("truncated", "connection closed mid-frame", buffer, self.locator)
                    )
                if rejects:
                    await (await self.writer.submit((), rejects))
                return
            frames, buffer, garbage = cut_frames(buffer + data)
            await self._handle(frames, garbage)

    @property
    def locator(self) -> str:
        return f"peer {self.peer}"

    async def _handle(self, frames: list[tuple[bytes, Decoded]], garbage: bytes) -> None:
        records: list[PositionRecord] = []
        rejects: list[Reject] = []
        if garbage.strip(b"\r\n\x00"):
            rejects.append(Reject("bad_frame", "bytes outside any frame", garbage, self.locator))
        replies: list[bytes] = []
        for raw, decoded in frames:
            if isinstance(decoded, jt808.JT808DecodeError):
                rejects.append(Reject(decoded.reason, decoded.detail, raw, self.locator))
                continue
            if decoded.header.split is not None and not decoded.header.encryption:
                replies.append(self._general_reply(decoded.header, OK))
                whole = self._fragments.add(raw, decoded, rejects)
                if whole is not None:  # its fragments were acknowledged one by one
                    await self._message(whole[0], whole[1], records, rejects)
                continue
            reply = await self._message(raw, decoded, records, rejects)
            if reply is not None:
                replies.append(reply)
        if records or rejects:
            # acknowledged only once durable; if the store gives up, nothing is acknowledged
            await (await self.writer.submit(records, rejects))
        if replies:
            await send(self.stream, b"".join(replies))

    async def _message(
        self,
        raw: bytes,
        frame: jt808.Frame,
        records: list[PositionRecord],
        rejects: list[Reject],
    ) -> bytes | None:
        header = frame.header
        locator = f"terminal {header.phone}"
        if header.msg_id == TERMINAL_GENERAL_REPLY:
            return None
        try:
            message = jt808.decode_body(frame)
        except jt808.JT808DecodeError as error:
            rejects.append(Reject(error.reason, error.detail, raw, locator))
            result = UNSUPPORTED if error.reason == "unsupported" else MESSAGE_ERROR
            return self._general_reply(header, result)
        if isinstance(message, jt808.Registration):
            return await self._register(header, message, raw, rejects)
        if isinstance(message, jt808.Authentication):
            return await self._authenticate(header, message)
        if isinstance(message, jt808.Heartbeat):
            return self._general_reply(header, OK)
        if isinstance(message, jt808.Location | jt808.LocationBatch):
            return await self._locations(header, message, raw, records, rejects)
        if header.msg_id == LOGOUT:
            self.authenticated, self.binding = False, None
            return self._general_reply(header, OK)
        self.ctx.stats.skipped += 1
        return self._general_reply(header, UNSUPPORTED)

    async def _register(
        self,
        header: jt808.Header,
        registration: jt808.Registration,
        raw: bytes,
        rejects: list[Reject],
    ) -> bytes:
        colour = JTT415_COLOURS.get(registration.plate_colour)
        plate = plausible_plate(registration.plate)
        locator = f"terminal {header.phone}"
        if colour is None or plate is None:
            reason = "unplated_vehicle" if colour is None else "bad_plate"
            detail = f"plate {registration.plate!r}, colour code {registration.plate_colour}"
            rejects.append(Reject(reason, detail, raw, locator))
            return self._registration_reply(header, NO_SUCH_VEHICLE, None)
        token = secrets.token_hex(8)
        await _save_terminal(
            self.ctx.engine, self.gateway.name, header.phone, registration, plate, colour, token
        )
        return self._registration_reply(header, OK, token)

    async def _authenticate(self, header: jt808.Header, auth: jt808.Authentication) -> bytes:
        binding = await _find_terminal(
            self.ctx.engine,
            self.gateway.name,
            header.phone,
            lambda digest: _token_matches(digest, auth.token),
        )
        self.authenticated = binding is not None
        self.binding = binding
        return self._general_reply(header, OK if binding is not None else FAILURE)

    async def _locations(
        self,
        header: jt808.Header,
        message: jt808.Location | jt808.LocationBatch,
        raw: bytes,
        records: list[PositionRecord],
        rejects: list[Reject],
    ) -> bytes:
        locator = f"terminal {header.phone}"
        if self.binding is None and not self.config.require_authentication:
            self.binding = await _find_terminal(
                self.ctx.engine, self.gateway.name, header.phone, lambda _: True
            )
        if self.binding is None or (self.config.require_authentication and not self.authenticated):
            rejects.append(
                Reject("unauthenticated", "location before authentication", raw, locator)
            )
            return self._general_reply(header, FAILURE)
        locations = message.locations if isinstance(message, jt808.LocationBatch) else (message,)
        for location in locations:
            if self.config.skip_unpositioned and not location.positioned:
                self.ctx.stats.skipped += 1
                continue
            records.append(
                from_jt808_location(
                    location,
                    self.binding.plate,
                    self.binding.colour,
                    PositionSource.JT808,
                    raw,
                    locator,
                )
            )
        return self._general_reply(header, OK)

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        return self._seq

    def _reply_header(self, header: jt808.Header, msg_id: int) -> jt808.Header:
        return jt808.Header(
            msg_id=msg_id,
            phone=header.phone,
            seq=self._next_seq(),
            protocol_version=header.protocol_version,
        )

    def _general_reply(self, header: jt808.Header, result: int) -> bytes:
        body = jt808.encode_general_reply(jt808.GeneralReply(header.seq, header.msg_id, result))
        return jt808.encode_frame(
            self._reply_header(header, jt808.MsgId.PLATFORM_GENERAL_REPLY), body
        )

    def _registration_reply(self, header: jt808.Header, result: int, token: str | None) -> bytes:
        body = jt808.encode_registration_reply(jt808.RegistrationReply(header.seq, result, token))
        return jt808.encode_frame(self._reply_header(header, jt808.MsgId.REGISTRATION_REPLY), body)


class _Fragments:
    """Split messages (header split bit: packet i of n) put back together per session.

    Held in memory until complete, bounded; a session that ends with a message still
    incomplete dead-letters its packets (`incomplete_split`)."""

    MAX_BYTES = 1 << 20

    def __init__(self) -> None:
        self._parts: dict[tuple[int, int], dict[int, tuple[bytes, jt808.Frame]]] = {}
        self._bytes = 0

    def add(
        self, raw: bytes, frame: jt808.Frame, rejects: list[Reject]
    ) -> tuple[bytes, jt808.Frame] | None:
        split = frame.header.split
        assert split is not None
        if self._bytes + len(raw) > self.MAX_BYTES:
            rejects.append(Reject("bad_split", "too many split packets pending", raw))
            return None
        key = (frame.header.msg_id, split.total)
        parts = self._parts.setdefault(key, {})
        if split.index not in parts:
            parts[split.index] = (raw, frame)
            self._bytes += len(raw)
        if len(parts) < split.total:
            return None
        del self._parts[key]
        ordered = [parts[index] for index in sorted(parts)]
        self._bytes -= sum(len(raw) for raw, _ in ordered)
        first = ordered[0][1].header
        header = dataclasses.replace(first, split=None)
        body = b"".join(part.body for _, part in ordered)
        return b"".join(raw for raw, _ in ordered), jt808.Frame(header, body)

    def abandon(self, locator: str) -> list[Reject]:
        rejects = [
            Reject(
                "incomplete_split", f"packet {index} of {total}, the rest never came", raw, locator
            )
            for (_, total), parts in self._parts.items()
            for index, (raw, _) in sorted(parts.items())
        ]
        self._parts.clear()
        self._bytes = 0
        return rejects


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_matches(digest: str, token: str) -> bool:
    return hmac.compare_digest(digest, _digest(token))


async def _save_terminal(
    engine: AsyncEngine,
    connector: str,
    phone: str,
    registration: jt808.Registration,
    plate: str,
    colour: PlateColour,
    token: str,
) -> None:
    values = {
        "connector": connector,
        "terminal_phone": phone,
        "terminal_id": registration.terminal_id[:32],
        "plate": plate,
        "plate_colour": colour,
        "token_sha256": _digest(token),
    }
    async with engine.begin() as connection:
        statement = dialect_insert(connection, _terminal).values(**values)
        update = {
            name: statement.excluded[name]
            for name in values
            if name not in ("connector", "terminal_phone")
        }
        await connection.execute(
            statement.on_conflict_do_update(
                index_elements=["connector", "terminal_phone"], set_=update
            )
        )


async def _find_terminal(
    engine: AsyncEngine, connector: str, phone: str, accept: Callable[[str], bool]
) -> Binding | None:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(_terminal.c.plate, _terminal.c.plate_colour, _terminal.c.token_sha256).where(
                    _terminal.c.connector == connector, _terminal.c.terminal_phone == phone
                )
            )
        ).first()
    if row is None or not accept(row.token_sha256):
        return None
    return Binding(row.plate, PlateColour(row.plate_colour))
