/**
 * The example requests of a reference document (test/fixtures/reference/), read as they are
 * written: the JSON bodies under each endpoint's heading, and the `curl` commands with the
 * answers their `# →` comments promise. The replay tests send them verbatim.
 */

export interface CodeBlock {
  /** The nearest `###` heading above it, without its backquotes (`POST /spawn`). */
  readonly heading: string;
  /** The bold label just above it (`Request:`, `Response:`), or "". */
  readonly label: string;
  readonly lang: string;
  readonly text: string;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let heading = "";
  let label = "";
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const h = /^#{2,3} (.+)$/.exec(line);
    if (h) {
      heading = (h[1] ?? "").replaceAll("`", "");
      label = "";
      continue;
    }
    const bold = /^\*\*(.+?)\*\*/.exec(line);
    if (bold) label = bold[1] ?? "";
    const fence = /^```(\w*)$/.exec(line);
    if (!fence) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i] ?? "");
    blocks.push({ heading, label, lang: fence[1] ?? "", text: body.join("\n") });
  }
  return blocks;
}

/** The JSON of a block, with `// …` comments (the reference's annotations) left out. */
export function jsonOf(block: CodeBlock): unknown {
  return JSON.parse(block.text.replace(/\s*\/\/[^\n]*/g, ""));
}

export interface CurlRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** What its `# →` comment says it answers, or null. */
  readonly expected: string | null;
}

/** Words as a POSIX shell splits them, for the quoting the examples use ('…', "…", \ at line ends). */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? "";
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      word = (word ?? "") + text.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? "") + ch;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** Every `curl` command of the document's shell blocks, with the answer the `# →` line after it gives. */
export function curlRequests(markdown: string): CurlRequest[] {
  const requests: CurlRequest[] = [];
  for (const block of codeBlocks(markdown).filter((b) => b.lang === "bash")) {
    const lines = block.text.replace(/\\\n/g, " ").split("\n");
    for (const line of lines) {
      const answer = /^# → (.*)$/.exec(line);
      const last = requests[requests.length - 1];
      if (answer && last && last.expected === null) {
        requests[requests.length - 1] = { ...last, expected: answer[1] ?? "" };
        continue;
      }
      if (!line.startsWith("curl ")) continue;
      const words = shellWords(line);
      let method = "GET";
      let url = "";
      let body: string | undefined;
      const headers: Record<string, string> = {};
      for (let i = 1; i < words.length; i++) {
        const w = words[i] ?? "";
        if (w === "-X") method = words[++i] ?? method;
        else if (w === "-H") {
          const [name = "", ...value] = (words[++i] ?? "").split(":");
          headers[name.trim().toLowerCase()] = value.join(":").trim();
        } else if (w === "-d") {
          body = words[++i];
          if (method === "GET") method = "POST";
        } else url = w;
      }
      requests.push({ method, url, headers, body, expected: null });
    }
  }
  return requests;
}
