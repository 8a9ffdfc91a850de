import * as fs from "fs";
import * as path from "path";
import { PAGES, renderPage, repoRoot, schemaKeyDocs, writePages } from "./generateReference";

describe("reference pages", () => {
  if (process.env.ENJAILED_UPDATE_DOCS === "1") {
    it("update: rewrites docs/reference from the schemas", () => {
      expect(writePages()).toHaveLength(PAGES.length);
    });
  }

  it.each(PAGES.map((p) => [p.page, p] as const))("%s matches the schema and its JSDoc (regenerate: ENJAILED_UPDATE_DOCS=1)", (_page, spec) => {
    const file = path.join(repoRoot, "docs", "reference", spec.page);
    const committed = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "(missing)";
    expect(committed).toBe(renderPage(spec));
  });

  it.each(PAGES.flatMap((p): [string, string][] => [[p.source, p.schema.fn], ...p.nested.map((n): [string, string] => [p.source, n.fn])]))(
    "%s %s: every key has JSDoc, and every .default( has @default",
    (source: string, fn: string) => {
      const keys = schemaKeyDocs(source, fn);
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) {
        expect(k.summary).not.toBe("");
        if (k.hasDefaultCall) expect({ key: k.name, defaultTag: k.defaultTag }).toEqual({ key: k.name, defaultTag: expect.any(String) });
      }
    },
  );

  it("fails a key without JSDoc, naming it", () => {
    const dir = fs.mkdtempSync(path.join(repoRoot, "tests", "docs", ".tmp-"));
    try {
      const rel = path.relative(repoRoot, path.join(dir, "x.ts"));
      fs.writeFileSync(path.join(dir, "x.ts"), "export function xSchema() {\n  return z.object({\n    /** Documented. */\n    a: z.string(),\n    b: z.number(),\n  });\n}\n");
      expect(() => schemaKeyDocs(rel, "xSchema")).toThrow(`${rel}: xSchema: key "b" has no JSDoc`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
