/**
 * Generates docs/reference/<resource>.md from the zod schemas (types, bounds, defaults via `z.toJSONSchema`) and the
 * JSDoc written on each schema key and state field (read with the TypeScript compiler API). The schema is the single
 * source of truth: tests/docs/reference.test.ts fails when a committed page differs from what this produces, or when a
 * key lacks JSDoc or a defaulted key lacks `@default`.
 *
 * Regenerate: `ENJAILED_UPDATE_DOCS=1 npx jest --selectProjects unit tests/docs`, or after `npm run build`,
 * `node dist/tests/docs/generateReference.js`.
 */
import * as fs from "fs";
import * as path from "path";
import ts from "typescript";
import { z } from "zod";
import { jailConfSchema, jailParametersSchema } from "../../provider/jailConf";
import { zfsDatasetSchema, zfsPropertiesSchema } from "../../provider/zfsDataset";

const up = path.resolve(__dirname, "..", "..");
/** The repository root, whether this runs from source (jest) or from dist/ (node). */
export const repoRoot = path.basename(up) === "dist" ? path.dirname(up) : up;

/** One documented key. */
export interface KeyDoc {
  name: string;
  summary: string;
  defaultTag?: string;
  hasDefaultCall: boolean;
}

/** What a page is built from. */
export interface PageSpec {
  page: string;
  title: string;
  source: string;
  token: string;
  schema: { fn: string; build: () => z.ZodType };
  nested: { key: string; fn: string; build: () => z.ZodType; note: string }[];
  state: string;
}

export const PAGES: PageSpec[] = [
  {
    page: "zfsDataset.md",
    title: "ZfsDataset",
    source: "provider/zfsDataset.ts",
    token: "pulumi-nodejs:dynamic/enjailed:ZfsDataset",
    schema: { fn: "zfsDatasetSchema", build: zfsDatasetSchema },
    nested: [{
      key: "properties",
      fn: "zfsPropertiesSchema",
      build: zfsPropertiesSchema,
      note: "Typed keys are validated as below; any other zfsprops(7) or user property (`com.example:backup`) passes through as a string after a name check.",
    }],
    state: "ZfsDatasetState",
  },
  {
    page: "jailConf.md",
    title: "JailConf",
    source: "provider/jailConf.ts",
    token: "pulumi-nodejs:dynamic/enjailed:JailConf",
    schema: { fn: "jailConfSchema", build: jailConfSchema },
    nested: [{
      key: "parameters",
      fn: "jailParametersSchema",
      build: jailParametersSchema,
      note: "Keys are jail(8) parameter names. Strings are templates: `$x`/`${x}` refer to a variable or parameter, `$$` is a literal dollar sign. A list also accepts a single string.",
    }],
    state: "JailConfState",
  },
];

function jsdocOf(node: ts.Node, text: string): string | undefined {
  const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
  const doc = ranges.filter((r) => text.slice(r.pos, r.pos + 3) === "/**").pop();
  if (doc === undefined) return undefined;
  return text
    .slice(doc.pos + 3, doc.end - 2)
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, "").trimEnd())
    .join("\n")
    .trim();
}

function splitDoc(doc: string): { summary: string; defaultTag?: string } {
  const m = /(^|\n)@default\s*(.*)$/s.exec(doc);
  const summary = (m ? doc.slice(0, m.index) : doc).replace(/\n\n/g, "¶").replace(/\n/g, " ").replace(/¶/g, " ").trim();
  return m ? { summary, defaultTag: (m[2] ?? "").trim() } : { summary };
}

function sourceFile(rel: string): { sf: ts.SourceFile; text: string } {
  const text = fs.readFileSync(path.join(repoRoot, rel), "utf8");
  return { sf: ts.createSourceFile(rel, text, ts.ScriptTarget.ES2022, true), text };
}

/** The keys of the first `z.object({...})` literal inside function `fn`, with their JSDoc. */
export function schemaKeyDocs(rel: string, fn: string): KeyDoc[] {
  const { sf, text } = sourceFile(rel);
  let found: ts.ObjectLiteralExpression | undefined;
  const visit = (n: ts.Node, inside: boolean): void => {
    if (found) return;
    const here = inside || (ts.isFunctionDeclaration(n) && n.name?.text === fn);
    if (here && ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === "object") {
      const arg = n.arguments[0];
      if (arg !== undefined && ts.isObjectLiteralExpression(arg)) {
        found = arg;
        return;
      }
    }
    ts.forEachChild(n, (c) => visit(c, here));
  };
  visit(sf, false);
  if (found === undefined) throw new Error(`${rel}: no z.object({...}) inside function ${fn}`);
  return found.properties.map((p) => {
    if (!ts.isPropertyAssignment(p)) throw new Error(`${rel}: ${fn}: only key: value entries are supported`);
    const name = ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : p.name.getText(sf);
    const doc = jsdocOf(p, text);
    if (doc === undefined) throw new Error(`${rel}: ${fn}: key ${JSON.stringify(name)} has no JSDoc`);
    return { name, ...splitDoc(doc), hasDefaultCall: /\.default\(/.test(p.initializer.getText(sf)) };
  });
}

/** The members of interface `name` with their JSDoc (computed outputs). */
export function interfaceDocs(rel: string, name: string): { name: string; type: string; summary: string }[] {
  const { sf, text } = sourceFile(rel);
  const decl = sf.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
  if (decl === undefined) throw new Error(`${rel}: no interface ${name}`);
  return decl.members.map((m) => {
    const key = m.name !== undefined && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : "?";
    const doc = jsdocOf(m, text);
    if (doc === undefined) throw new Error(`${rel}: ${name}.${key} has no JSDoc`);
    const type = ts.isPropertySignature(m) && m.type ? m.type.getText(sf) : "unknown";
    return { name: key, type, summary: splitDoc(doc).summary };
  });
}

type Json = { [k: string]: unknown };

/** A short type for a JSON Schema node: `string`, `"on" \| "off"`, `integer 0–2`, `string[]`. */
export function typeText(s: Json): string {
  if (Array.isArray(s.anyOf)) return (s.anyOf as Json[]).map(typeText).join(" | ");
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => `\`${JSON.stringify(v)}\``).join(" | ");
  if (s.type === "array") return `${typeText((s.items ?? {}) as Json)}[]`;
  if (s.type === "integer" || s.type === "number") {
    const lo = s.minimum as number | undefined;
    const hi = s.maximum as number | undefined;
    return lo !== undefined || hi !== undefined ? `${String(s.type)} ${lo ?? "…"}–${hi ?? "…"}` : String(s.type);
  }
  if (s.type === "object") {
    if (s.additionalProperties !== undefined && typeof s.additionalProperties === "object") {
      return `map of ${typeText(s.additionalProperties as Json)}`;
    }
    return "object";
  }
  return typeof s.type === "string" ? s.type : "any";
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function table(rel: string, fn: string, build: () => z.ZodType): string[] {
  const json = z.toJSONSchema(build(), { io: "input", unrepresentable: "any" }) as Json;
  const props = (json.properties ?? {}) as Record<string, Json>;
  const required = new Set((json.required ?? []) as string[]);
  const lines = ["| Name | Type | Required | Default | Description |", "|---|---|---|---|---|"];
  for (const k of schemaKeyDocs(rel, fn)) {
    if (k.hasDefaultCall && k.defaultTag === undefined) throw new Error(`${rel}: ${fn}: key ${JSON.stringify(k.name)} has .default( but no @default`);
    const p = props[k.name] ?? {};
    const def = k.defaultTag !== undefined ? k.defaultTag : "";
    const type = k.name === "connection" ? "Connection (provider/lib/connection.ts)" : typeText(p);
    lines.push(`| \`${k.name}\` | ${cell(type)} | ${required.has(k.name) ? "yes" : "no"} | ${cell(def === "" ? "" : `\`${def}\``.replace(/^`- (.*)`$/, "$1"))} | ${cell(k.summary)} |`);
  }
  return lines;
}

function headerOf(rel: string): string {
  const text = fs.readFileSync(path.join(repoRoot, rel), "utf8");
  const m = /^\/\*\*\n([\s\S]*?)\*\//.exec(text);
  if (!m) throw new Error(`${rel}: no header comment`);
  return (m[1] ?? "").split("\n").map((l) => l.replace(/^ \* ?/, "")).join("\n").trim();
}

/** The whole page for `spec`. */
export function renderPage(spec: PageSpec): string {
  const out: string[] = [
    `<!-- Generated by tests/docs/generateReference.ts from ${spec.source}; do not edit by hand. -->`,
    "",
    `# ${spec.title}`,
    "",
    `Type token: \`${spec.token}\`. Source: \`${spec.source}\`.`,
    "",
    "## How it works",
    "",
    headerOf(spec.source),
    "",
    "## Inputs",
    "",
    ...table(spec.source, spec.schema.fn, spec.schema.build),
  ];
  for (const n of spec.nested) {
    out.push("", `## \`${n.key}\``, "", n.note, "", ...table(spec.source, n.fn, n.build));
  }
  out.push("", "## Outputs", "", "Every input, plus:", "", "| Name | Type | Description |", "|---|---|---|");
  for (const m of interfaceDocs(spec.source, spec.state)) out.push(`| \`${m.name}\` | ${cell(`\`${m.type}\``)} | ${cell(m.summary)} |`);
  return out.join("\n") + "\n";
}

/** Write every page; returns the paths written. */
export function writePages(): string[] {
  const dir = path.join(repoRoot, "docs", "reference");
  fs.mkdirSync(dir, { recursive: true });
  return PAGES.map((spec) => {
    const file = path.join(dir, spec.page);
    fs.writeFileSync(file, renderPage(spec));
    return file;
  });
}

if (require.main === module) {
  for (const f of writePages()) console.log(`wrote ${path.relative(repoRoot, f)}`);
}
