/**
 * jail.conf(5) syntax: a renderer and a reader, both pure (no I/O). Used by `JailConf` (provider/jailConf.ts).
 *
 * The lexical rules follow usr.sbin/jail/jaillex.l of FreeBSD 15.0:
 * - whitespace and comments (`#` and `//` to end of line, `/* … *\/`) separate tokens;
 * - `;` `,` `=` `{` `}` and `+=` are reserved tokens;
 * - an unquoted word is made of letters, digits and `_ ! % & ( ) - . : < > ? @ [ ] ^ \` | ~` plus `$ * + / \`;
 * - `'…'` is literal apart from backslash escapes, `"…"` expands `$name` and `${name}`;
 * - backslash escapes everywhere: `\a \b \f \n \r \t \v`, octal `\NNN`, hex `\xHH`, backslash-newline is a line
 *   continuation, any other `\c` is `c`;
 * - tokens with no whitespace between them (`"a"$b'c'`) join into one string.
 * A statement is `name;`, `name = v[, v…];` or `name += v[, v…];`; `name { … }` is a jail block; a statement whose name
 * starts with `$` defines a variable; `.include "file";` is noted (not followed: the reader is given one file).
 *
 * Values inside enjailed are *templates*: `$x` and `${x}` refer to a jail.conf variable or parameter (expanded by
 * jail(8) when the jail starts), and `$$` is a literal dollar sign. Everything else is literal. The renderer always
 * writes double-quoted strings, `${x}` for references and `\$` for a literal dollar, so what the user wrote and what
 * jail(8) sees mean the same.
 */

// ── templates ───────────────────────────────────────────────────────────────

/** One piece of a string value: literal text or a reference to a variable/parameter. */
export type Part = { lit: string } | { ref: string };

/** Names that may appear inside `${…}`: a variable or a (dotted) parameter name. */
const REF_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * Split an enjailed template (`$$` literal dollar, `$x`/`${x}` references) into parts. Throws an Error whose message
 * says what is wrong (used as a check failure reason).
 */
export function parseTemplate(s: string): Part[] {
  const parts: Part[] = [];
  let lit = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c !== "$") {
      lit += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === "$") {
      lit += "$";
      i += 2;
      continue;
    }
    let ref: string;
    if (next === "{") {
      const end = s.indexOf("}", i + 2);
      if (end < 0) throw new Error(`has an unterminated \${ at offset ${i} (write $$ for a literal dollar sign)`);
      ref = s.slice(i + 2, end);
      if (!REF_NAME.test(ref)) throw new Error(`refers to ${JSON.stringify("${" + ref + "}")}, which is not a variable or parameter name`);
      i = end + 1;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1));
      if (!m) throw new Error(`has a lone $ at offset ${i}; write $$ for a literal dollar sign or \${name} for a reference`);
      ref = m[0];
      i += 1 + ref.length;
    }
    if (lit !== "") parts.push({ lit });
    lit = "";
    parts.push({ ref });
  }
  if (lit !== "") parts.push({ lit });
  return parts;
}

/** The canonical template text of `parts` (inverse of {@link parseTemplate}). */
export function templateText(parts: readonly Part[]): string {
  return parts.map((p) => ("lit" in p ? p.lit.replace(/\$/g, "$$$$") : "${" + p.ref + "}")).join("");
}

/** The names a template refers to. */
export function templateRefs(s: string): string[] {
  return parseTemplate(s).flatMap((p) => ("ref" in p ? [p.ref] : []));
}

// ── rendering ───────────────────────────────────────────────────────────────

/** Escape literal text for the inside of a jail.conf double-quoted string. */
export function escapeLiteral(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "$") out += "\\$";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += "\\" + code.toString(8).padStart(3, "0");
    else out += ch;
  }
  return out;
}

/** A template as a jail.conf double-quoted string: `"/usr/jail/${name}"`. */
export function renderString(template: string): string {
  return '"' + parseTemplate(template).map((p) => ("lit" in p ? escapeLiteral(p.lit) : "${" + p.ref + "}")).join("") + '"';
}

/** A parameter value as enjailed renders it. `true` is a bare flag, `false` the `no`-prefixed flag. */
export type RenderValue = boolean | number | string | readonly string[];

/** One line of a block: a parameter (or `$variable`) and its value. */
export interface RenderEntry {
  name: string;
  value: RenderValue;
}

/** A group of lines separated from the next by a blank line. */
export interface RenderSection {
  entries: RenderEntry[];
  /** Pad names so the `=` signs line up. */
  align?: boolean;
  /** Sort the rendered lines byte-wise and fence them with `# keep-sorted start` / `# keep-sorted end`. */
  keepSorted?: boolean;
}

/** `allow.mount` → `allow.nomount`: jail(8)'s way of writing a false boolean. */
export function negatedName(name: string): string {
  const dot = name.lastIndexOf(".");
  return name.slice(0, dot + 1) + "no" + name.slice(dot + 1);
}

function renderEntry(e: RenderEntry, pad: number, opWidth: number): string[] {
  const { name, value } = e;
  if (value === true) return [`${name};`];
  if (value === false) return [`${negatedName(name)};`];
  const head = (op: string) => `${name.padEnd(pad)} ${op.padStart(opWidth)} `;
  if (typeof value === "number") return [`${head("=")}${String(value)};`];
  if (typeof value === "string") return [`${head("=")}${renderString(value)};`];
  const list = value as readonly string[];
  return list.map((v, i) => `${head(i === 0 ? "=" : "+=")}${renderString(v)};`);
}

function renderSection(s: RenderSection, indent: string): string[] {
  const hasAppend = s.entries.some((e) => Array.isArray(e.value) && e.value.length > 1);
  const valued = s.entries.filter((e) => typeof e.value !== "boolean");
  const pad = s.align ? Math.max(0, ...valued.map((e) => e.name.length)) : 0;
  const opWidth = hasAppend ? 2 : 1;
  let lines = s.entries.flatMap((e) => renderEntry(e, pad, opWidth));
  if (s.keepSorted) {
    lines = [...lines].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    lines = ["# keep-sorted start", ...lines, "# keep-sorted end"];
  }
  return lines.map((l) => indent + l);
}

/**
 * Render one jail block. Empty sections and empty lists are skipped; sections are separated by one blank line.
 * The output ends with a newline and depends only on the arguments (byte-stable).
 */
export function renderJailBlock(jailName: string, sections: readonly RenderSection[], header?: readonly string[]): string {
  const cleaned = sections
    .map((s) => ({ ...s, entries: s.entries.filter((e) => !(Array.isArray(e.value) && e.value.length === 0)) }))
    .filter((s) => s.entries.length > 0);
  const body = cleaned.map((s) => renderSection(s, "  ").join("\n")).join("\n\n");
  const top = header && header.length > 0 ? header.map((l) => `# ${l}`.trimEnd()).join("\n") + "\n" : "";
  return `${top}${jailName} {\n${body}${body === "" ? "" : "\n"}}\n`;
}

// ── reading ─────────────────────────────────────────────────────────────────

/** A syntax error in a jail.conf file; the message reads like jail(8)'s own (`line N: …`). */
export class JailConfSyntaxError extends Error {
  override readonly name = "JailConfSyntaxError";
  constructor(readonly line: number, detail: string) {
    super(`line ${line}: ${detail}`);
  }
}

/** One statement as written: `op` is `flag` for `name;`. Each value is a list of parts. */
export interface Statement {
  name: string;
  op: "flag" | "set" | "append";
  values: Part[][];
  line: number;
}

export interface JailBlock {
  name: string;
  statements: Statement[];
}

/** A parsed file: statements outside any block, the blocks in order, and `.include` targets (not followed). */
export interface JailConfFile {
  globals: Statement[];
  blocks: JailBlock[];
  includes: string[];
}

type Token =
  | { kind: "punct"; text: ";" | "," | "=" | "+=" | "{" | "}"; line: number }
  | { kind: "str"; parts: Part[]; quoted: boolean; line: number };

const WORD = /[A-Za-z0-9_!%&()\-.:<>?@[\]^`|~*+/]/;

function readEscape(src: string, i: number): { text: string; next: number } {
  // src[i] is the character after the backslash
  const c = src[i];
  if (c === undefined) return { text: "\\", next: i };
  if (c === "\n") return { text: "", next: i + 1 };
  if (c >= "0" && c <= "7") {
    let j = i;
    let v = 0;
    while (j < i + 3 && j < src.length && (src[j] as string) >= "0" && (src[j] as string) <= "7") {
      v = v * 8 + Number(src[j]);
      j++;
    }
    return { text: String.fromCharCode(v & 0xff), next: j };
  }
  if (c === "x") {
    let j = i + 1;
    let hex = "";
    while (j < i + 3 && j < src.length && /[0-9A-Fa-f]/.test(src[j] as string)) hex += src[j++];
    return { text: String.fromCharCode(hex === "" ? 0 : parseInt(hex, 16)), next: j };
  }
  const map: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };
  return { text: map[c] ?? c, next: i + 1 };
}

function pushLit(parts: Part[], text: string): void {
  if (text === "") return;
  const last = parts[parts.length - 1];
  if (last !== undefined && "lit" in last) last.lit += text;
  else parts.push({ lit: text });
}

/** Read a `$name` or `${name}` at src[i] === "$"; returns undefined when it is a lone `$` (a literal). */
function readVar(src: string, i: number, line: number, inDq: boolean): { ref: string; next: number } | undefined {
  if (src[i + 1] === "{") {
    let j = i + 2;
    let name = "";
    while (j < src.length && src[j] !== "}") {
      const ch = src[j] as string;
      if (ch === "\n" || ch === "{" || (inDq && ch === '"')) throw new JailConfSyntaxError(line, "unterminated variable");
      if (ch === "\\") {
        const e = readEscape(src, j + 1);
        name += e.text;
        j = e.next;
        continue;
      }
      name += ch;
      j++;
    }
    if (j >= src.length) throw new JailConfSyntaxError(line, "unterminated variable");
    return { ref: name, next: j + 1 };
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i + 1, i + 200));
  if (!m) return undefined;
  return { ref: m[0], next: i + 1 + m[0].length };
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  let joinable = false; // the previous token was a string with nothing between it and here
  const addStr = (parts: Part[], quoted: boolean, startLine: number) => {
    const prev = tokens[tokens.length - 1];
    if (joinable && prev !== undefined && prev.kind === "str") {
      for (const p of parts) {
        if ("lit" in p) pushLit(prev.parts, p.lit);
        else prev.parts.push({ ref: p.ref });
      }
      prev.quoted = prev.quoted || quoted;
    } else {
      tokens.push({ kind: "str", parts, quoted, line: startLine });
    }
    joinable = true;
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (c === "\n") {
      line++;
      i++;
      joinable = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      joinable = false;
      continue;
    }
    if (c === "#" || (c === "/" && src[i + 1] === "/")) {
      while (i < src.length && src[i] !== "\n") i++;
      joinable = false;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) throw new JailConfSyntaxError(line, "unterminated comment");
      line += (src.slice(i, end).match(/\n/g) ?? []).length;
      i = end + 2;
      joinable = false;
      continue;
    }
    if (c === "+" && src[i + 1] === "=") {
      tokens.push({ kind: "punct", text: "+=", line });
      i += 2;
      joinable = false;
      continue;
    }
    if (c === ";" || c === "," || c === "=" || c === "{" || c === "}") {
      tokens.push({ kind: "punct", text: c, line });
      i++;
      joinable = false;
      continue;
    }
    const startLine = line;
    if (c === "'") {
      let j = i + 1;
      let text = "";
      while (j < src.length && src[j] !== "'") {
        if (src[j] === "\\") {
          if (src[j + 1] === "\n") line++;
          const e = readEscape(src, j + 1);
          text += e.text;
          j = e.next;
        } else {
          if (src[j] === "\n") line++;
          text += src[j];
          j++;
        }
      }
      if (j >= src.length) throw new JailConfSyntaxError(startLine, "unterminated string");
      addStr(text === "" ? [] : [{ lit: text }], true, startLine);
      i = j + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      const parts: Part[] = [];
      while (j < src.length && src[j] !== '"') {
        const ch = src[j] as string;
        if (ch === "\\") {
          if (src[j + 1] === "\n") line++;
          const e = readEscape(src, j + 1);
          pushLit(parts, e.text);
          j = e.next;
        } else if (ch === "$") {
          const v = readVar(src, j, line, true);
          if (v === undefined) {
            pushLit(parts, "$");
            j++;
          } else {
            parts.push({ ref: v.ref });
            j = v.next;
          }
        } else {
          if (ch === "\n") line++;
          pushLit(parts, ch);
          j++;
        }
      }
      if (j >= src.length) throw new JailConfSyntaxError(startLine, "unterminated string");
      addStr(parts, true, startLine);
      i = j + 1;
      continue;
    }
    if (c === "$") {
      const v = readVar(src, i, line, false);
      if (v !== undefined) {
        addStr([{ ref: v.ref }], false, startLine);
        i = v.next;
        continue;
      }
    }
    if (c === "\\") {
      if (src[i + 1] === "\n") line++;
      const e = readEscape(src, i + 1);
      addStr(e.text === "" ? [] : [{ lit: e.text }], false, startLine);
      i = e.next;
      continue;
    }
    if (WORD.test(c) || c === "$") {
      let j = i;
      while (j < src.length && (WORD.test(src[j] as string) || (j === i && src[j] === "$"))) {
        if (src[j] === "+" && src[j + 1] === "=") break;
        j++;
      }
      if (j === i) j = i + 1;
      addStr([{ lit: src.slice(i, j) }], false, startLine);
      i = j;
      continue;
    }
    throw new JailConfSyntaxError(line, `${JSON.stringify(c)}: syntax error`);
  }
  return tokens;
}

function plainName(t: Token | undefined, what: string, line: number): string {
  if (t === undefined) throw new JailConfSyntaxError(line, "unexpected EOF");
  if (t.kind !== "str") throw new JailConfSyntaxError(t.line, `${t.text}: syntax error, expected ${what}`);
  if (t.parts.length === 1 && "ref" in (t.parts[0] as Part) && !t.quoted) return "$" + (t.parts[0] as { ref: string }).ref;
  if (t.parts.some((p) => "ref" in p)) throw new JailConfSyntaxError(t.line, `${what} cannot contain a variable`);
  return t.parts.map((p) => ("lit" in p ? p.lit : "")).join("");
}

/** Parse a whole jail.conf(5) file. Throws {@link JailConfSyntaxError}. */
export function parseJailConf(text: string): JailConfFile {
  const tokens = tokenize(text);
  const file: JailConfFile = { globals: [], blocks: [], includes: [] };
  let i = 0;
  let block: JailBlock | undefined;
  const lastLine = () => (tokens[tokens.length - 1]?.line ?? 1);
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    if (t.kind === "punct") {
      if (t.text === "}" && block !== undefined) {
        file.blocks.push(block);
        block = undefined;
        i++;
        continue;
      }
      if (t.text === ";") {
        i++;
        continue;
      }
      throw new JailConfSyntaxError(t.line, `${t.text}: syntax error`);
    }
    const name = plainName(t, "a parameter name", t.line);
    const after = tokens[i + 1];
    if (after === undefined) throw new JailConfSyntaxError(lastLine(), "unexpected EOF");
    if (after.kind === "punct" && after.text === "{") {
      if (block !== undefined) throw new JailConfSyntaxError(after.line, "nested jail blocks are not supported");
      block = { name, statements: [] };
      i += 2;
      continue;
    }
    let st: Statement;
    if (after.kind === "punct" && after.text === ";") {
      st = { name, op: "flag", values: [], line: t.line };
      i += 2;
    } else if (after.kind === "punct" && (after.text === "=" || after.text === "+=")) {
      const values: Part[][] = [];
      let j = i + 2;
      for (;;) {
        const v = tokens[j];
        if (v === undefined) throw new JailConfSyntaxError(lastLine(), "unexpected EOF");
        if (v.kind !== "str") throw new JailConfSyntaxError(v.line, `${v.text}: syntax error`);
        values.push(v.parts);
        const sep = tokens[j + 1];
        if (sep === undefined) throw new JailConfSyntaxError(lastLine(), "unexpected EOF");
        if (sep.kind === "punct" && sep.text === ",") {
          j += 2;
          continue;
        }
        if (sep.kind === "punct" && sep.text === ";") {
          j += 2;
          break;
        }
        throw new JailConfSyntaxError(sep.line, `${sep.kind === "punct" ? sep.text : "value"}: syntax error`);
      }
      st = { name, op: after.text === "=" ? "set" : "append", values, line: t.line };
      i = j;
    } else if (name === ".include" && after.kind === "str") {
      const end = tokens[i + 2];
      if (end === undefined || end.kind !== "punct" || end.text !== ";") throw new JailConfSyntaxError(after.line, ".include needs a file name and ;");
      if (after.parts.some((p) => "ref" in p)) throw new JailConfSyntaxError(after.line, "variables not permitted in '.include' filename");
      file.includes.push(after.parts.map((p) => ("lit" in p ? p.lit : "")).join(""));
      i += 3;
      continue;
    } else {
      throw new JailConfSyntaxError(after.line, `${after.kind === "punct" ? after.text : "value"}: syntax error`);
    }
    if (block !== undefined) block.statements.push(st);
    else file.globals.push(st);
  }
  if (block !== undefined) throw new JailConfSyntaxError(lastLine(), "unexpected EOF");
  return file;
}

// ── meaning ─────────────────────────────────────────────────────────────────

/** A parameter's meaning after expansion: `true` for a bare flag, otherwise the list of expanded strings. */
export type Meaning = Record<string, true | string[]>;

/** Raw (unexpanded) settings of one jail: globals, then `*`, then the jail's own block; `=` replaces, `+=` appends. */
function collect(file: JailConfFile, jailName: string): Map<string, true | Part[][]> {
  const out = new Map<string, true | Part[][]>();
  const apply = (st: Statement) => {
    if (st.op === "flag") out.set(st.name, true);
    else if (st.op === "set") out.set(st.name, st.values);
    else {
      const prev = out.get(st.name);
      out.set(st.name, [...(Array.isArray(prev) ? prev : []), ...st.values]);
    }
  };
  file.globals.forEach(apply);
  for (const b of file.blocks) if (b.name === "*") b.statements.forEach(apply);
  for (const b of file.blocks) if (b.name === jailName) b.statements.forEach(apply);
  return out;
}

/** What expansion needs to know about one jail. */
interface ExpandContext {
  jailName: string;
  raw: Map<string, true | Part[][]>;
  cache: Map<string, string[] | true>;
  expanding: Set<string>;
}

// Module-level functions (not closures declared after use): Pulumi's closure serializer must see each one.
function resolveKey(ctx: ExpandContext, key: string): string[] | true {
  const hit = ctx.cache.get(key);
  if (hit !== undefined) return hit;
  if (key === "name" && !ctx.raw.has("name")) return [ctx.jailName];
  const v = ctx.raw.get(key);
  if (v === undefined) throw new Error(`${ctx.jailName}: variable "${key.replace(/^\$/, "")}" not found`);
  if (v === true) return true;
  if (ctx.expanding.has(key)) throw new Error(`${ctx.jailName}: ${key}: variable loop`);
  ctx.expanding.add(key);
  const values = v.map((parts) => expandParts(ctx, parts, parts.length === 1));
  ctx.expanding.delete(key);
  ctx.cache.set(key, values);
  return values;
}

function lookupRef(ctx: ExpandContext, ref: string): string[] | true {
  return ctx.raw.has("$" + ref) ? resolveKey(ctx, "$" + ref) : resolveKey(ctx, ref);
}

function expandParts(ctx: ExpandContext, parts: Part[], whole: boolean): string {
  let s = "";
  for (const p of parts) {
    if ("lit" in p) {
      s += p.lit;
      continue;
    }
    const r = lookupRef(ctx, p.ref);
    if (r === true) continue;
    if (r.length > 1 && !whole) throw new Error(`${ctx.jailName}: ${p.ref}: array cannot be substituted inline`);
    s += r.join(" ");
  }
  return s;
}

/**
 * The effective parameters of `jailName` in `file`, with every variable expanded and variables themselves left out.
 * `name` is the block name. Throws an Error for an undefined variable, a loop, or a list substituted inline.
 */
export function jailMeaning(file: JailConfFile, jailName: string): Meaning {
  const ctx: ExpandContext = { jailName, raw: collect(file, jailName), cache: new Map(), expanding: new Set() };
  const out: Meaning = {};
  for (const key of [...ctx.raw.keys()].sort()) {
    if (key.startsWith("$")) continue;
    out[key] = resolveKey(ctx, key);
  }
  return out;
}

/**
 * Differences between two meanings, one line per parameter, sorted by name, in the wording of
 * `describeDifferences` (provider/lib/adopt.ts): `path: want "/a", host has "/b"`. Unlike that helper, parameters
 * only the host sets are listed too (`want nothing`), because the file is owned whole. Empty when they mean the same.
 */
export function meaningDifferences(wanted: Meaning, actual: Meaning): string[] {
  const show = (v: true | string[] | undefined, none: string) =>
    v === undefined ? none : v === true ? "set (flag)" : v.length === 1 ? JSON.stringify(v[0]) : JSON.stringify(v);
  const keys = [...new Set([...Object.keys(wanted), ...Object.keys(actual)])].sort();
  return keys
    .filter((k) => JSON.stringify(wanted[k]) !== JSON.stringify(actual[k]))
    .map((k) => `${k}: want ${show(wanted[k], "nothing")}, host has ${show(actual[k], "nothing")}`);
}
