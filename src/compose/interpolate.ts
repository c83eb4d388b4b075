/**
 * Compose's variable interpolation (compose-spec, "Interpolation"): `$VAR`, `${VAR}`,
 * `${VAR:-default}` / `${VAR-default}`, `${VAR:?error}` / `${VAR?error}`,
 * `${VAR:+replacement}` / `${VAR+replacement}`, `$$` for a literal `$`. Defaults and replacements
 * may hold further interpolations. A `$` followed by anything else is an error, as in Compose.
 */

export type Variables = Readonly<Record<string, string | undefined>>;

export type Interpolated = { readonly value: string } | { readonly error: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Compose's warning for `${VAR}` or `$VAR` of a variable that is not set. */
export function unsetMessage(name: string): string {
  return `variable ${name} is not set: it is replaced by an empty string (as Compose does)`;
}

/** The index of the `}` closing the `${` whose body starts at `from`, or -1. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "$" && text[i + 1] === "$") i++;
    else if (c === "$" && text[i + 1] === "{") {
      depth++;
      i++;
    } else if (c === "}" && --depth === 0) return i;
  }
  return -1;
}

/** `${…}`'s body: a name, then optionally an operator and its word. */
function braced(body: string, vars: Variables, missing: string[], used: string[]): Interpolated {
  const name = NAME.exec(body)?.[0];
  if (name === undefined) return { error: `invalid interpolation "\${${body}}": a variable name must follow "\${"` };
  const rest = body.slice(name.length);
  const value = vars[name];
  used.push(name);
  if (rest === "") {
    if (value === undefined) missing.push(name);
    return { value: value ?? "" };
  }
  const op = /^(:?[-?+])/.exec(rest)?.[0];
  if (op === undefined)
    return { error: `invalid interpolation "\${${body}}": after the name, use :-, -, :?, ?, :+ or +` };
  const word = rest.slice(op.length);
  const unset = value === undefined || (op.startsWith(":") && value === "");
  switch (op.replace(":", "")) {
    case "-":
      return unset ? interpolate(word, vars, missing, used) : { value: value };
    case "+":
      return unset ? { value: "" } : interpolate(word, vars, missing, used);
    default: {
      if (!unset) return { value: value };
      const message = interpolate(word, vars, missing, used);
      const why = "value" in message && message.value !== "" ? message.value : `${name} is required`;
      return { error: `required variable ${name} is ${value === undefined ? "not set" : "empty"}: ${why}` };
    }
  }
}

/**
 * `text` with every variable replaced, or the first error. Variables used without a default and
 * not set are pushed on `missing` (Compose warns of them and uses ""); every variable read, on `used`.
 */
export function interpolate(text: string, vars: Variables, missing: string[] = [], used: string[] = []): Interpolated {
  if (!text.includes("$")) return { value: text };
  let out = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === "$") {
      out += "$";
      i = dollar + 2;
    } else if (next === "{") {
      const end = closingBrace(text, dollar + 2);
      if (end === -1) return { error: `invalid interpolation: "\${" without a closing "}" in "${text}"` };
      const r = braced(text.slice(dollar + 2, end), vars, missing, used);
      if ("error" in r) return r;
      out += r.value;
      i = end + 1;
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0];
      if (name === undefined) {
        return { error: `invalid interpolation: "$" must start $NAME, \${NAME} or $$ (a literal $) in "${text}"` };
      }
      used.push(name);
      if (vars[name] === undefined) missing.push(name);
      out += vars[name] ?? "";
      i = dollar + 1 + name.length;
    }
  }
  return { value: out };
}
