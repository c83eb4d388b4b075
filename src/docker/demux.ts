/**
 * Docker's multiplexed stream format (exec and logs of a container without a TTY): frames of an
 * 8-byte header (stream type, 3 zero bytes, big-endian payload size) and the payload. Frames
 * arrive split across chunks and several to a chunk; this reassembles them.
 */
export type StreamName = "stdout" | "stderr";

export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: StreamName, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const type = this.pending[0];
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      // 0 is stdin (echoed with a TTY off); it is shown as stdout.
      this.onFrame(type === 2 ? "stderr" : "stdout", payload);
    }
  }
}

/** Splits a byte stream into lines (without their "\n"); the last partial line comes at flush. */
export class LineSplitter {
  private rest = "";
  private readonly decoder = new TextDecoder("utf-8");

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) this.onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  }

  flush(): void {
    const last = this.rest + this.decoder.decode();
    this.rest = "";
    if (last.length > 0) this.onLine(last);
  }
}

/** Keeps at most `limit` bytes of a stream, and says whether more came. */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
