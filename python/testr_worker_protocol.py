"""What testr's two Python workers share: a worker's side of the worker
protocol (docs/worker-protocol.md), with nothing but the standard library.

testr ships two workers, ``testr_subunit.py`` (unittest's) and
``testr_pytest.py`` (a pytest plugin), and writes this module beside them.
What is here is the same whatever runs the tests, so it lives once rather
than as a copy in each worker:

* ``StreamWriter`` encodes subunit v2 packets (byte-for-byte what
  python-subunit's ``StreamResultToBytes`` writes for the same fields) and
  splits big attachments into chunks that fit the 4 MiB packet limit;
* ``claim_stdin`` and ``claim_stdout`` give the protocol the process's
  stdin and stdout, and keep the tests off them;
* ``write_listing`` writes the listing and its end-of-listing marker;
* ``IdReader`` reads the ids a line at a time as they arrive, and shows
  those that have arrived without waiting for more;
* ``write_result`` writes a test's attachments and final status, the same
  names and mime types for both workers, and ``write_standalone_result`` a
  whole result for what ran as no test;
* ``exit_now`` ends a worker without the interpreter's teardown.

What differs stays with each worker: how it finds and runs tests, and how
it captures a test's output (unittest's result swaps ``sys.stdout`` and
``sys.stderr`` for each test; pytest captures for itself and hands over
its sections). Standard library only, Python 3.8 or later: the unittest
worker runs in whatever interpreter a project tests with, with nothing
installed, and the pytest worker must import before it can say that
pytest is missing.
"""

import io
import os
import struct
import sys
import time
import zlib

__all__ = [
    "IdReader",
    "LISTING_DONE",
    "StreamWriter",
    "TEXT_MIME",
    "TRACEBACK_MIME",
    "WANTS_NEXT",
    "claim_stdin",
    "claim_stdout",
    "encode_utf8",
    "encode_varint",
    "exit_now",
    "flush_stdio",
    "now",
    "only_thread",
    "write_listing",
    "write_result",
    "write_standalone_result",
]

# --------------------------------------------------------------------------
# Wire format
# --------------------------------------------------------------------------

SIGNATURE = 0xB3
VERSION_2 = 0x2000
FLAG_TEST_ID = 0x0800
FLAG_ROUTE_CODE = 0x0400
FLAG_TIMESTAMP = 0x0200
FLAG_RUNNABLE = 0x0100
FLAG_TAGS = 0x0080
FLAG_FILE_CONTENT = 0x0040
FLAG_MIME_TYPE = 0x0020
FLAG_EOF = 0x0010

STATUS_CODES = {
    None: 0,
    "exists": 1,
    "inprogress": 2,
    "success": 3,
    "uxsuccess": 4,
    "skip": 5,
    "fail": 6,
    "xfail": 7,
}

# A packet's length is a varint of at most 3 bytes: 4194303 bytes in all.
MAX_PACKET_LENGTH = 4194303
# The largest varint value (4 bytes, top two bits set).
MAX_VARINT = (1 << 30) - 1

TEXT_MIME = "text/plain;charset=utf8"
TRACEBACK_MIME = "text/x-traceback;charset=utf8"

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
# Signature, flags and a 1- or 2-byte length, for encode_event.
_SIG_FLAGS = struct.Struct(">BHB")
_SIG_FLAGS_U16 = struct.Struct(">BHH")
_EVENT_FLAGS = VERSION_2 | FLAG_TEST_ID | FLAG_RUNNABLE


def encode_varint(value):
    """Encode a subunit v2 number: the top two bits of the first byte give
    the width (1-4 bytes), the remaining bits hold the value big-endian."""
    if value < 0:
        raise ValueError("negative value: %r" % (value,))
    if value < 0x40:
        return bytes((value,))
    if value < 0x4000:
        return _U16.pack(value | 0x4000)
    if value < 0x400000:
        value |= 0x800000
        return bytes((value >> 16, (value >> 8) & 0xFF, value & 0xFF))
    if value <= MAX_VARINT:
        return _U32.pack(value | 0xC0000000)
    raise ValueError("value too large to encode: %r" % (value,))


def encode_utf8(text):
    """Text as UTF-8 bytes for a packet. Captured output may hold lone
    surrogates, which strict UTF-8 refuses: they are written escaped."""
    return text.encode("utf-8", "backslashreplace")


def _encode_string(text):
    data = encode_utf8(text)
    return encode_varint(len(data)) + data


class StreamWriter(object):
    """Writes subunit v2 packets to a binary stream.

    ``status()`` takes the same fields as python-subunit's
    ``StreamResultToBytes.status()`` and writes the same bytes, except that
    ``timestamp`` is an integer of nanoseconds since the epoch (what
    ``time.time_ns()`` returns) instead of a datetime, and tags are written
    sorted so that the output is deterministic.
    """

    # Attachment bytes per packet. Well below the 4 MiB packet limit, so that
    # the test id, file name and mime type always fit beside a chunk.
    chunk_size = 1 << 20

    def __init__(self, stream):
        self.stream = stream

    @staticmethod
    def encode_packet(
        test_id=None,
        test_status=None,
        test_tags=None,
        runnable=True,
        file_name=None,
        file_bytes=None,
        eof=False,
        mime_type=None,
        route_code=None,
        timestamp=None,
    ):
        """Return one packet as bytes. Raises ValueError when it would be
        longer than the format allows."""
        flags = VERSION_2 | STATUS_CODES[test_status]
        # Fields go in the order the format fixes: timestamp, test id, tags,
        # mime type, file content, route code. Truthiness tests (tags, mime)
        # follow python-subunit, which leaves out empty ones.
        body = []
        if timestamp is not None:
            flags |= FLAG_TIMESTAMP
            seconds, nanos = divmod(timestamp, 1000000000)
            body.append(_U32.pack(seconds))
            body.append(encode_varint(nanos))
        if test_id is not None:
            flags |= FLAG_TEST_ID
            body.append(_encode_string(test_id))
        if test_tags:
            flags |= FLAG_TAGS
            body.append(encode_varint(len(test_tags)))
            body.extend(_encode_string(tag) for tag in sorted(test_tags))
        if runnable:
            flags |= FLAG_RUNNABLE
        if mime_type:
            flags |= FLAG_MIME_TYPE
            body.append(_encode_string(mime_type))
        if file_name is not None:
            flags |= FLAG_FILE_CONTENT
            if file_bytes is None:
                file_bytes = b""
            body.append(_encode_string(file_name))
            body.append(encode_varint(len(file_bytes)))
            body.append(bytes(file_bytes))
        if eof:
            flags |= FLAG_EOF
        if route_code is not None:
            flags |= FLAG_ROUTE_CODE
            body.append(_encode_string(route_code))
        body = b"".join(body)

        # The length counts the whole packet, its own varint included, so the
        # varint's width depends on the length it encodes. 1 (signature) +
        # 2 (flags) + body + 4 (CRC), then add the width that fits.
        base = 7 + len(body)
        if base <= 0x3F - 1:
            length = base + 1
        elif base <= 0x3FFF - 2:
            length = base + 2
        elif base <= MAX_PACKET_LENGTH - 3:
            length = base + 3
        else:
            raise ValueError("packet too long: %d bytes" % (base + 3,))
        head = bytes((SIGNATURE,)) + _U16.pack(flags) + encode_varint(length)
        content = head + body
        return content + _U32.pack(zlib.crc32(content) & 0xFFFFFFFF)

    def status(self, **fields):
        """Write one packet; see ``encode_packet`` for the fields."""
        self.stream.write(self.encode_packet(**fields))

    @staticmethod
    def encode_event(test_id, test_status, timestamp=None):
        """The same bytes as ``encode_packet(test_id=..., test_status=...,
        timestamp=...)``, faster: the packets written for every test (its
        start and its end) take this path."""
        id_bytes = encode_utf8(test_id)
        size = len(id_bytes)
        flags = _EVENT_FLAGS | STATUS_CODES[test_status]
        if timestamp is None:
            body = encode_varint(size) + id_bytes
        else:
            flags |= FLAG_TIMESTAMP
            seconds, nanos = divmod(timestamp, 1000000000)
            body = _U32.pack(seconds) + encode_varint(nanos) + encode_varint(size) + id_bytes
        base = 7 + len(body)
        if base <= 0x3F - 1:
            head = _SIG_FLAGS.pack(SIGNATURE, flags, base + 1)
        elif base <= 0x3FFF - 2:
            head = _SIG_FLAGS_U16.pack(SIGNATURE, flags, (base + 2) | 0x4000)
        else:
            # Rare (an id over 16 KiB): the general encoder handles it.
            return StreamWriter.encode_packet(test_id=test_id, test_status=test_status,
                                              timestamp=timestamp)
        content = head + body
        return content + _U32.pack(zlib.crc32(content))

    def event(self, test_id, test_status, timestamp=None):
        """Write a packet with only a test id, a status and maybe a
        timestamp (see ``encode_event``)."""
        self.stream.write(self.encode_event(test_id, test_status, timestamp))

    def write_file(
        self, test_id, file_name, data, mime_type=None, timestamp=None,
        test_status=None, runnable=True,
    ):
        """Write a whole attachment, split into as many packets as needed:
        the mime type on the first, eof on the last. An empty attachment is
        one empty packet with eof."""
        data = memoryview(data)
        size = len(data)
        # Room left for content in one packet once the other fields are in,
        # with 4 bytes to spare for the length varints growing to 3 bytes.
        overhead = len(self.encode_packet(
            test_id=test_id, test_status=test_status, file_name=file_name,
            mime_type=mime_type, eof=True, timestamp=timestamp))
        chunk_size = min(self.chunk_size, MAX_PACKET_LENGTH - overhead - 4)
        if chunk_size <= 0:
            raise ValueError("test id or file name too long for a packet")
        offset = 0
        first = True
        while first or offset < size:
            end = min(offset + chunk_size, size)
            self.status(
                test_id=test_id,
                test_status=test_status,
                runnable=runnable,
                file_name=file_name,
                file_bytes=data[offset:end],
                mime_type=mime_type if first else None,
                eof=end >= size,
                timestamp=timestamp,
            )
            offset = end
            first = False

    def flush(self):
        self.stream.flush()


# --------------------------------------------------------------------------
# The protocol's streams
# --------------------------------------------------------------------------


def claim_stdout():
    """Return a binary stream on the process's real stdout for the packets,
    and point file descriptor 1 (hence sys.stdout, print() outside a test,
    and child processes) at stderr, so that nothing but packets reaches
    stdout. Text written outside a test (at import, in a fixture) then shows
    on the terminal instead of being mixed into the packet stream."""
    sys.stdout.flush()
    try:
        packets = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
    except (OSError, AttributeError, ValueError):
        # No usable descriptors (stdout is not a real file): write the
        # packets to stdout's binary buffer and let the text mix in.
        return getattr(sys.stdout, "buffer", sys.stdout)
    return packets


def claim_stdin():
    """Return a binary stream on the process's real stdin for the test ids,
    and point file descriptor 0 at the null device, so that a test (or a
    child process) that reads its stdin cannot eat the ids. Called before
    ``claim_stdout``, so that descriptor 0 is in use (if only by the null
    device) when that one duplicates descriptor 1."""
    try:
        try:
            fd = os.dup(0)
        except OSError:
            fd = None  # descriptor 0 is closed: no ids will come
        null = os.open(os.devnull, os.O_RDONLY)
        if null != 0:
            os.dup2(null, 0)
            os.close(null)
    except (OSError, AttributeError, ValueError):
        return getattr(sys.stdin, "buffer", None) or io.BytesIO()
    return os.fdopen(fd, "rb") if fd is not None else io.BytesIO()


# --------------------------------------------------------------------------
# Listing
# --------------------------------------------------------------------------

# The file, sent with no test id, that ends a worker's listing.
LISTING_DONE = "testr-listing-done"


# The tag on the end-of-listing marker of a worker that tears fixtures down
# by the test it runs next: testr then keeps a test queued behind the one
# running.
WANTS_NEXT = "testr-wants-next"


def write_listing(writer, entries, files=(), marker_tags=None):
    """Write phase 1 of the protocol: an ``exists`` packet for each (id,
    tags) pair of ``entries`` (tags a set of strings, or None), then an
    attachment with no test id for each (name, text) pair of ``files``
    (the unittest worker's ``import errors``), then the end-of-listing
    marker with the number of ids listed and ``marker_tags``; flush."""
    event = writer.event
    status = writer.status
    count = 0
    for test_id, tags in entries:
        if tags:
            status(test_id=test_id, test_status="exists", test_tags=tags)
        else:
            event(test_id, "exists")
        count += 1
    for name, text in files:
        writer.write_file(None, name, encode_utf8(text), TEXT_MIME, runnable=False)
    status(file_name=LISTING_DONE, file_bytes=str(count).encode("ascii"),
           eof=True, mime_type=TEXT_MIME, runnable=False, test_tags=marker_tags)
    writer.flush()


# --------------------------------------------------------------------------
# Reading ids
# --------------------------------------------------------------------------


class IdReader(object):
    """The ids on stdin, a line at a time, each as soon as its line is
    complete; and a look at the lines that have already arrived
    (``arrived()``) that never waits for more.

    Iterating gives the ids, decoded, until the input ends: that is the
    protocol's phase 2 loop, ``for test_id in IdReader(ids): run(test_id)``.
    The pytest worker also looks ahead with ``arrived()``, to know which
    test comes next when pytest tears fixtures down.

    It reads the stream's file descriptor itself, what is there each time
    (a buffered reader could keep lines in its buffer, out of sight of
    ``arrived()``); a stream without one (in memory) is read a line at a
    time."""

    def __init__(self, stream):
        try:
            self.fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None  # an in-memory stream: read it a line at a time
        self.stream = stream
        self.lines = []   # complete lines read, not yet taken; bytes, no \n
        self.first = 0    # index of the next line to take from self.lines
        self.partial = b""
        self.eof = False
        self.can_poll = self.fd is not None

    def __iter__(self):
        """The ids (undecodable bytes replaced), empty lines left out,
        each as soon as its line has arrived, until the input ends."""
        next_line = self.next_line
        while True:
            line = next_line()
            if line is None:
                return
            if line:
                yield line.decode("utf-8", "replace")

    def _read(self):
        """Read once, waiting for data; False at the end of the input."""
        if self.fd is None:
            line = self.stream.readline()
            if not line:
                self.eof = True
                return False
            self.lines.append(line.rstrip(b"\r\n"))
            return True
        data = os.read(self.fd, 65536)
        if not data:
            self.eof = True
            if self.partial:
                # A last line without its "\n" still counts.
                self.lines.append(self.partial.rstrip(b"\r"))
                self.partial = b""
            return False
        chunks = (self.partial + data).split(b"\n")
        self.partial = chunks.pop()
        self.lines.extend(chunk.rstrip(b"\r") for chunk in chunks)
        return True

    def next_line(self):
        """The next line (bytes, without its line ending), waiting for it;
        None at the end of the input."""
        while self.first >= len(self.lines):
            del self.lines[:]
            self.first = 0
            if self.eof or not self._read():
                if not self.lines:
                    return None
        line = self.lines[self.first]
        self.first += 1
        if self.first > 1024 and self.first * 2 > len(self.lines):
            del self.lines[:self.first]
            self.first = 0
        return line

    def arrived(self):
        """Yield the lines that have arrived and are not taken yet, reading
        what the pipe holds meanwhile, but never waiting for more."""
        index = self.first
        while True:
            lines = self.lines
            while index < len(lines):
                yield lines[index]
                index += 1
            if not self.can_poll or self.eof or not self._readable():
                return
            self._read()

    def _readable(self):
        # Imported here: only a worker that looks ahead needs it.
        import select
        try:
            return bool(select.select([self.fd], [], [], 0)[0])
        except (OSError, ValueError, TypeError):
            # select() takes only sockets on Windows: use what is buffered.
            self.can_poll = False
            return False


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

# Nanoseconds since the epoch, as StreamWriter takes timestamps.
now = time.time_ns


def write_result(writer, test_id, status, traceback=None, reason=None, files=()):
    """Write the end of a test's result, after its ``inprogress`` packet:
    its ``reason`` (why it was skipped, or expected to fail), the (name,
    text) pairs of ``files`` that hold text (captured ``stdout``,
    ``stderr``, ``log``), its ``traceback``, then its final status,
    timestamped; flush, so that testr has the result at once."""
    if reason is not None:
        writer.write_file(test_id, "reason", encode_utf8(reason), TEXT_MIME)
    for name, text in files:
        if text:
            writer.write_file(test_id, name, encode_utf8(text), TEXT_MIME)
    if traceback:
        writer.write_file(test_id, "traceback", encode_utf8(traceback), TRACEBACK_MIME)
    writer.event(test_id, status, now())
    writer.flush()


def write_standalone_result(writer, test_id, status, traceback=None, reason=None):
    """A whole result, ``inprogress`` and all, for what no test ran for:
    an unknown id, an error in a fixture or in collecting."""
    writer.event(test_id, "inprogress", now())
    write_result(writer, test_id, status, traceback, reason)


# --------------------------------------------------------------------------
# Ending
# --------------------------------------------------------------------------


def only_thread():
    """Whether no other thread runs: a normal exit would wait for those a
    test left running (unless daemonic), so ``exit_now`` must not be used
    then."""
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def flush_stdio():
    """Flush sys.stdout and sys.stderr, whatever they have become."""
    # Also before a fork: text waiting in a buffer would be written once
    # per process.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def exit_now(code):
    """Exit as a worker ending normally would, less the interpreter's
    teardown: the atexit handlers (the tests' own, coverage's) run, stdio is
    flushed, but the loaded tests are not freed one by one. That takes
    about 7 ms in a unittest worker of 400 small tests, while the run waits
    for the worker's end; in a worker forked from the unittest worker's fork
    server, freeing them would also write to every page it shares with the
    server, and copy them all: about a second for a suite that holds 2 GB."""
    import atexit
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if run_exitfuncs is not None:
        run_exitfuncs()
    flush_stdio()
    os._exit(code)
