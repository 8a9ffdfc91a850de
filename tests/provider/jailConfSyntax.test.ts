import fc from "fast-check";
import {
  escapeLiteral,
  jailMeaning,
  JailConfSyntaxError,
  meaningDifferences,
  parseJailConf,
  parseTemplate,
  renderJailBlock,
  renderString,
  templateText,
} from "../../provider/jailConfSyntax";
import type { Part } from "../../provider/jailConfSyntax";

describe("jail.conf syntax", () => {
  describe("templates", () => {
    it("splits references and literal text", () => {
      expect(parseTemplate("/usr/jail/${name}")).toEqual([{ lit: "/usr/jail/" }, { ref: "name" }]);
      expect(parseTemplate("$a-${host.hostname}")).toEqual([{ ref: "a" }, { lit: "-" }, { ref: "host.hostname" }]);
      expect(parseTemplate("cost: $$5")).toEqual([{ lit: "cost: $5" }]);
    });

    it("fails on a lone $ with a hint", () => {
      expect(() => parseTemplate("echo $ x")).toThrow("has a lone $ at offset 5; write $$ for a literal dollar sign or ${name} for a reference");
      expect(() => parseTemplate("${a")).toThrow("unterminated");
      expect(() => parseTemplate("${a b}")).toThrow("not a variable or parameter name");
    });

    it("renders double-quoted strings with escapes jail(8) undoes", () => {
      expect(renderString('say "hi" \\ $$HOME ${name}')).toBe('"say \\"hi\\" \\\\ \\$HOME ${name}"');
      expect(escapeLiteral("a\tb\u0001")).toBe("a\\tb\\001");
    });
  });

  describe("reader", () => {
    it("reads comments, quoting, escapes, concatenation, += and .include", () => {
      const text = [
        "# a comment",
        "// another",
        '/* block',
        '   comment */ .include "/etc/jail.conf.d/*.conf";',
        "exec.clean;",
        "web {",
        "  $v = 'lit$eral';",
        '  path = /jails/$name ;',
        '  exec.start = "a\\"b" , \'c\';',
        '  exec.start += "x\\ny"$v"\\$z";',
        "  allow.nomount;",
        "}",
      ].join("\n");
      const file = parseJailConf(text);
      expect(file.includes).toEqual(["/etc/jail.conf.d/*.conf"]);
      expect(file.globals.map((s) => s.name)).toEqual(["exec.clean"]);
      expect(jailMeaning(file, "web")).toEqual({
        "allow.nomount": true,
        "exec.clean": true,
        "exec.start": ['a"b', "c", "x\nylit$eral$z"],
        path: ["/jails/web"],
      });
    });

    it("fails with jail(8)'s wording and the line", () => {
      expect(() => parseJailConf('a {\n path = "x;\n}')).toThrow(new JailConfSyntaxError(2, "unterminated string"));
      expect(() => parseJailConf("a {\n /* x")).toThrow("line 2: unterminated comment");
      expect(() => parseJailConf("a { path = x }")).toThrow("line 1: }: syntax error");
      expect(() => parseJailConf("a { path = x;")).toThrow("unexpected EOF");
    });

    it("fails on undefined variables and loops", () => {
      expect(() => jailMeaning(parseJailConf('a { path = "$nope"; }'), "a")).toThrow('variable "nope" not found');
      expect(() => jailMeaning(parseJailConf('a { $x = "$y"; $y = "$x"; path = $x; }'), "a")).toThrow("variable loop");
    });

    it("lists differences by parameter", () => {
      expect(meaningDifferences({ path: ["/a"], vnet: true }, { path: ["/b"], persist: true })).toEqual([
        'path: want "/a", host has "/b"',
        "persist: want nothing, host has set (flag)",
        "vnet: want set (flag), host has nothing",
      ]);
    });
  });

  describe("round trip", () => {
    const literal = fc.string({ unit: "binary", maxLength: 30 }).filter((s) => !s.includes("\u0000"));
    const part: fc.Arbitrary<Part> = fc.oneof(
      literal.filter((s) => s !== "").map((lit) => ({ lit })),
      fc.constantFrom("name", "v1", "v2").map((ref) => ({ ref })),
    );
    const value = fc.array(part, { maxLength: 5 }).map((ps) => templateText(ps));

    it("render → parse gives back the same values (property)", () => {
      fc.assert(
        fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), value, value, (list, v1, v2) => {
          const text = renderJailBlock("j", [
            { entries: [{ name: "$v1", value: "one" }, { name: "$v2", value: "two" }] },
            { entries: [{ name: "exec.start", value: list }, { name: "host.hostname", value: v1 }], align: true },
            { entries: [{ name: "persist", value: true }, { name: "allow.mount", value: false }, { name: "devfs_ruleset", value: 7 }], keepSorted: true },
            { entries: [{ name: "x.y", value: v2 }] },
          ]);
          const block = parseJailConf(text).blocks[0];
          const got = Object.fromEntries(block!.statements.map((s) => [s.name, s.values.map(templateText)]));
          expect(got["host.hostname"]).toEqual([v1]);
          expect(got["x.y"]).toEqual([v2]);
          const appended = block!.statements.filter((s) => s.name === "exec.start").flatMap((s) => s.values.map(templateText));
          expect(appended).toEqual(list);
          expect(got["allow.nomount"]).toEqual([]);
          expect(got["devfs_ruleset"]).toEqual(["7"]);
        }),
        { numRuns: 300 },
      );
    });

    it("the reader fails only with JailConfSyntaxError on arbitrary text (property)", () => {
      const piece = fc.constantFrom("a", "b {", "}", ";", "=", "+=", ",", '"', "'", "\\", "$", "${", "#", "//", "/*", "*/", "\n", " ", "x.y");
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 40 }).map((xs) => xs.join("")), (text) => {
          try {
            parseJailConf(text);
          } catch (e) {
            expect(e).toBeInstanceOf(JailConfSyntaxError);
          }
        }),
        { numRuns: 500 },
      );
    });

    it("template text ↔ parts is a bijection on canonical text (property)", () => {
      fc.assert(
        fc.property(fc.array(part, { maxLength: 6 }), (ps) => {
          const text = templateText(ps);
          expect(templateText(parseTemplate(text))).toBe(text);
        }),
      );
    });
  });
});
