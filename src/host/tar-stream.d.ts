// The part of tar-stream 2 (a dependency of dockerode's tar-fs) that host/build-context.ts uses.
declare module "tar-stream" {
  import type { Readable } from "node:stream";

  export interface Headers {
    name: string;
    size?: number;
    mode?: number;
    mtime?: Date;
    type?: "file" | "symlink" | "directory";
    linkname?: string;
    uid?: number;
    gid?: number;
  }

  export interface Pack extends Readable {
    entry(headers: Headers, buffer: Buffer | string, callback: (err?: Error | null) => void): void;
    finalize(): void;
  }

  export function pack(): Pack;

  export interface Extract extends NodeJS.WritableStream {
    on(event: "entry", listener: (headers: Headers, stream: Readable, next: () => void) => void): this;
    on(event: "finish", listener: () => void): this;
    on(event: "error", listener: (err: Error) => void): this;
  }

  export function extract(): Extract;
}
