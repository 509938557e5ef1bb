"""JT/T 809 receiver: the TCP endpoint a superior (provincial or national) platform
connects to, to share the trajectories of road-transport trucks.

It logs in (0x1001, user and password from config; answered by 0x1002), keeps the link
alive (0x1005 → 0x1006), and sends vehicle locations: 0x1200 with 0x1202/0x1203 or 0x9200
with 0x9202/0x9203. 2011 bodies carry their own position; 2019 bodies embed a JT/T 808
0x0200 body. Other business messages are counted and skipped; frames that cannot be
decoded are dead-lettered with the codec's reason.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from coalhub.identifiers import JTT415_COLOURS
from coalhub.models import LoadState, PositionSource
from connectors import jt809
from connectors.base import ConnectorContext, Reject
from connectors.position_writer import PositionWriter
from connectors.positions import Bounds, PositionRecord, from_jt808_location
from connectors.tcp import peer_host, read_some, send, serve_tcp

# 0x1002 results
LOGIN_OK, ACCESS_CODE_WRONG, USER_UNKNOWN, PASSWORD_WRONG = 0, 2, 3, 4
LOGOUT_REQUEST, LOGOUT_RESPONSE = 0x1003, 0x1004
_LOCATION_TYPES = frozenset(
    {
        jt809.DataType.UP_REAL_LOCATION,
        jt809.DataType.UP_HISTORY_LOCATION,
        jt809.DataType.DOWN_CAR_LOCATION,
        jt809.DataType.DOWN_HISTORY_LOCATION,
    }
)
_LOAD_BITS = {0b00: LoadState.EMPTY, 0b01: LoadState.HALF, 0b11: LoadState.FULL}


@dataclass(frozen=True)
class JT809ReceiverConfig:
    users: dict[int, str]  # user id -> password (8 characters at most)
    host: str = "0.0.0.0"  # noqa: S104 - the superior platform connects from outside
    port: int = 7809
    edition: jt809.Edition = jt809.Edition.V2011
    centre_id: int | None = None  # the access code the superior must present, if set
    idle_timeout: float = 180.0  # link tests come every minute or so
    skip_unpositioned: bool = True
    bounds: Bounds = field(default_factory=Bounds)


Decoded = jt809.Frame | jt809.JT809DecodeError


def cut_frames(
    buffer: bytes, edition: jt809.Edition, max_frame_bytes: int = jt809.DEFAULT_MAX_FRAME_BYTES
) -> tuple[list[tuple[bytes, Decoded]], bytes, bytes]:
    """Cut a byte stream into 0x5B…0x5D frames, each decoded or with its error.

    Returns (frames, rest, garbage) like `connectors.jt808_gateway.cut_frames`; a head
    flag before any tail ends the broken frame before it."""
    frames: list[tuple[bytes, Decoded]] = []
    garbage = bytearray()
    position = 0
    while (start := buffer.find(jt809.HEAD, position)) != -1:
        garbage += buffer[position:start]
        end = buffer.find(jt809.TAIL, start + 1)
        restart = buffer.find(jt809.HEAD, start + 1, len(buffer) if end == -1 else end)
        if restart != -1:
            broken = buffer[start:restart]
            frames.append((broken, jt809.JT809DecodeError("truncated", "frame without its tail")))
            position = restart
            continue
        if end == -1:
            rest = buffer[start:]
            if len(rest) > max_frame_bytes:
                return frames, b"", bytes(garbage + rest)
            return frames, rest, bytes(garbage)
        candidate = buffer[start : end + 1]
        try:
            frames.append((candidate, jt809.decode_frame(candidate, edition)))
        except jt809.JT809DecodeError as error:
            frames.append((candidate, error))
        position = end + 1
    garbage += buffer[position:]
    return frames, b"", bytes(garbage)


class JT809Receiver:
    kind = "transport"

    def __init__(self, name: str, config: JT809ReceiverConfig) -> None:
        self.name = name
        self.config = config

    async def run(self, ctx: ConnectorContext) -> None:
        async with PositionWriter(ctx, bounds=self.config.bounds) as writer:

            async def handle(reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> None:
                await _Link(self.config, ctx, writer, reader, stream).run()

            await serve_tcp(ctx, self.config.host, self.config.port, handle)


class _Link:
    def __init__(
        self,
        config: JT809ReceiverConfig,
        ctx: ConnectorContext,
        writer: PositionWriter,
        reader: asyncio.StreamReader,
        stream: asyncio.StreamWriter,
    ) -> None:
        self.config = config
        self.ctx = ctx
        self.writer = writer
        self.reader = reader
        self.stream = stream
        self.locator = f"peer {peer_host(stream)}"
        self.logged_in = False
        self.closing = False
        self._sn = 0

    async def run(self) -> None:
        buffer = b""
        while not self.closing:
            data = await read_some(self.reader, self.config.idle_timeout)
            if not data:
                if buffer:
                    reject = Reject(
                        "truncated", "connection closed mid-frame", buffer, self.locator
                    )
                    await self.writer.submit((), (reject,))
                return
            frames, buffer, garbage = cut_frames(buffer + data, self.config.edition)
            await self._handle(frames, garbage)

    async def _handle(self, frames: list[tuple[bytes, Decoded]], garbage: bytes) -> None:
        records: list[PositionRecord] = []
        rejects: list[Reject] = []
        if garbage.strip(b"\r\n\x00"):
            rejects.append(Reject("bad_frame", "bytes outside any frame", garbage, self.locator))
        replies: list[bytes] = []
        for raw, decoded in frames:
            if isinstance(decoded, jt809.JT809DecodeError):
                rejects.append(Reject(decoded.reason, decoded.detail, raw, self.locator))
            else:
                reply = self._message(raw, decoded, records, rejects)
                if reply is not None:
                    replies.append(reply)
            if self.closing:
                break
        if records or rejects:
            # 809 has no acknowledgement for locations; waiting for the queue is backpressure
            await self.writer.submit(records, rejects)
        if replies:
            await send(self.stream, b"".join(replies))

    def _message(
        self, raw: bytes, frame: jt809.Frame, records: list[PositionRecord], rejects: list[Reject]
    ) -> bytes | None:
        msg_id = frame.header.msg_id
        if msg_id == LOGOUT_REQUEST:
            self.closing = True
            return self._reply(frame.header, LOGOUT_RESPONSE, b"")
        try:
            message = jt809.decode_body(frame, self.config.edition)
        except jt809.JT809DecodeError as error:
            if error.reason == "unsupported" and self.logged_in:
                self.ctx.stats.skipped += 1  # other business: alarms, messages, statistics
            else:
                rejects.append(Reject(error.reason, error.detail, raw, self.locator))
            return None
        if isinstance(message, jt809.LoginRequest):
            return self._login(frame.header, message)
        if not self.logged_in:
            rejects.append(
                Reject("unauthenticated", f"{msg_id:#06x} before login", raw, self.locator)
            )
            return None
        if isinstance(message, jt809.LinkTest):
            return None if message.response else self._reply(frame.header, 0x1006, b"")
        if isinstance(message, jt809.VehicleExchange):
            self._exchange(raw, message, records, rejects)
        return None

    def _login(self, header: jt809.Header, login: jt809.LoginRequest) -> bytes:
        password = self.config.users.get(login.user_id)
        expected_centre = self.config.centre_id
        if expected_centre is not None and header.centre_id != expected_centre:
            result = ACCESS_CODE_WRONG
        elif password is None:
            result = USER_UNKNOWN
        elif not hmac.compare_digest(password.encode(), login.password.encode()):
            result = PASSWORD_WRONG
        else:
            result = LOGIN_OK
        self.logged_in = result == LOGIN_OK
        self.closing = not self.logged_in
        verify_code = secrets.randbits(32) if self.logged_in else 0
        body = jt809.encode_login_response(jt809.LoginResponse(result, verify_code))
        return self._reply(header, jt809.MsgId.LOGIN_RESPONSE, body)

    def _exchange(
        self,
        raw: bytes,
        exchange: jt809.VehicleExchange,
        records: list[PositionRecord],
        rejects: list[Reject],
    ) -> None:
        if exchange.data_type not in _LOCATION_TYPES:
            self.ctx.stats.skipped += 1
            return
        locator = f"{self.locator} plate {exchange.plate}"
        colour = JTT415_COLOURS.get(exchange.plate_colour)
        if colour is None:
            detail = f"plate {exchange.plate!r}, colour code {exchange.plate_colour}"
            rejects.append(Reject("unplated_vehicle", detail, raw, locator))
            return
        try:
            positions = jt809.decode_positions(exchange, self.config.edition)
        except jt809.JT809DecodeError as error:
            rejects.append(Reject(error.reason, error.detail, raw, locator))
            return
        for position in positions:
            if isinstance(position, jt809.Position2019):
                location = position.location
                if self.config.skip_unpositioned and not location.positioned:
                    self.ctx.stats.skipped += 1
                    continue
                record = from_jt808_location(
                    location, exchange.plate, colour, PositionSource.JT809, raw, locator
                )
            else:
                if self.config.skip_unpositioned and not position.state & 0b10:
                    self.ctx.stats.skipped += 1
                    continue
                record = PositionRecord(
                    plate=exchange.plate,
                    plate_colour=colour,
                    recorded_at=position.time,
                    latitude=position.latitude,
                    longitude=position.longitude,
                    source=PositionSource.JT809,
                    raw=raw,
                    altitude_m=position.altitude_m,
                    speed_kmh=float(position.speed_kmh),
                    heading=position.direction,
                    load_state=_LOAD_BITS.get((position.state >> 8) & 0b11),
                    locator=locator,
                )
            records.append(record)

    def _reply(self, request: jt809.Header, msg_id: int, body: bytes) -> bytes:
        self._sn = (self._sn + 1) & 0xFFFFFFFF
        header = jt809.Header(
            msg_id=msg_id,
            centre_id=request.centre_id,
            sn=self._sn,
            version=request.version,
            sent_at=datetime.now(UTC) if self.config.edition is jt809.Edition.V2019 else None,
        )
        return jt809.encode_frame(header, body)
