/** Reads a tar stream (a build context) into its entries: name, type, mode and content. */
import tar from "tar-stream";

export interface TarEntry {
  readonly name: string;
  readonly type: string;
  readonly mode: number;
  readonly content: string;
}

export function tarEntries(stream: NodeJS.ReadableStream): Promise<TarEntry[]> {
  return new Promise((resolve, reject) => {
    const out: TarEntry[] = [];
    const extract = tar.extract();
    extract.on("entry", (headers, body, next) => {
      const chunks: Buffer[] = [];
      body.on("data", (c: Buffer) => chunks.push(c));
      body.on("end", () => {
        out.push({
          name: headers.name,
          type: headers.type ?? "file",
          mode: headers.mode ?? 0,
          content: Buffer.concat(chunks).toString(),
        });
        next();
      });
    });
    extract.on("finish", () => {
      resolve(out);
    });
    extract.on("error", reject);
    stream.on("error", reject);
    stream.pipe(extract);
  });
}
