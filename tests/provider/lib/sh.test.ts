import { execFileSync } from "child_process";
import fc from "fast-check";
import { quote, raw, sh } from "../../../provider/lib/sh";

function throughSh(line: string): string {
  return execFileSync("/bin/sh", ["-c", line], { encoding: "utf8" });
}

/** Strings rich in shell metacharacters, plus arbitrary Unicode (no NUL: exec(2) cannot carry it). */
function nastyString(): fc.Arbitrary<string> {
  const pieces = fc.constantFrom("'", "\"", ";", "$(id)", "`id`", "\n", " ", "\t", "\\", "*", "?", "$HOME", "${x}", "&&", "|", ">", "<", "#", "~", "!", "-n", "--", "é", "日本", "🦀", "%s", "%");
  const any = fc.string({ unit: "binary", maxLength: 12 }).map((s) => s.replace(/\u0000/g, ""));
  return fc.array(fc.oneof(pieces, any), { maxLength: 8 }).map((parts) => parts.join(""));
}

describe("sh", () => {
  it("quote: wraps in single quotes and escapes embedded ones", () => {
    expect(quote("a b")).toBe("'a b'");
    expect(quote("it's")).toBe("'it'\\''s'");
    expect(quote("")).toBe("''");
  });

  it("fails quote on a NUL character", () => {
    expect(() => quote("a\u0000b")).toThrow("quoting a shell word: value contains a NUL character");
  });

  it("sh: quotes values, expands arrays to words, passes raw fragments", () => {
    expect(sh`zfs create -p ${["-o", "compression=lz4"]} ${"zroot/jails/web"}`)
      .toBe("zfs create -p '-o' 'compression=lz4' 'zroot/jails/web'");
    expect(sh`sysctl ${"a"}=${1}`).toBe("sysctl 'a'='1'");
    expect(sh`a ${raw("| wc -l")}`).toBe("a | wc -l");
    expect(sh`x ${[]} y`).toBe("x  y");
  });

  it("fails sh on non-finite numbers and unsupported values", () => {
    expect(() => sh`x ${Number.NaN}`).toThrow("building a command line: NaN is not a finite number");
    expect(() => sh`x ${{} as unknown as string}`).toThrow("building a command line: cannot interpolate a value of type object");
  });

  it("property: any string reaches the command unchanged through /bin/sh", () => {
    fc.assert(
      fc.property(nastyString(), (s) => {
        expect(throughSh(sh`printf %s ${s}`)).toBe(s);
      }),
      { numRuns: 150 },
    );
  });

  it("property: arrays arrive as exactly those words", () => {
    fc.assert(
      fc.property(fc.array(nastyString(), { maxLength: 5 }), (words) => {
        const out = throughSh(sh`for w in ${words}; do printf '[%s]' "$w"; done`);
        expect(out).toBe(words.map((w) => `[${w}]`).join(""));
      }),
      { numRuns: 60 },
    );
  });

  it("property: a command built by sh survives a second quoting (escalation wrapping)", () => {
    fc.assert(
      fc.property(nastyString(), (s) => {
        const inner = sh`printf %s ${s}`;
        expect(throughSh(sh`sh -c ${inner}`)).toBe(s);
      }),
      { numRuns: 60 },
    );
  });
});
