/**
 * `connection` and `@pulumi/command`'s `remote.ConnectionArgs` (issue #4): where a field overlaps, same name and
 * same meaning, so one object can configure both.
 *
 * Overlapping fields: host, port, user, hostKey, agentSocketPath, dialErrorLimit, perDialTimeout, proxy (and in proxy:
 * host, port, user, hostKey, agentSocketPath).
 *
 * - Compile time, through the TypeScript compiler API (see TYPE_ASSERTIONS): the overlap of our `ConnectionArgs` is
 *   assignable to `@pulumi/command`'s type; the other way round it is assignable once `hostKey` (top level and in
 *   `proxy`) is present, because enjailed requires a pinned host key where `@pulumi/command` makes it optional. That
 *   one difference is asserted as such, so it cannot vanish unnoticed.
 * - Run time: a `@pulumi/command`-style object goes through `connectionSchema()`, and every overlapping field comes
 *   out with the value and default that `@pulumi/command`'s own `connectionArgsProvideDefaults` gives it.
 */
import { join } from "path";
import { types } from "@pulumi/command";
import { createCompilerHost, createProgram, createSourceFile, flattenDiagnosticMessageText, readConfigFile, parseJsonConfigFileContent, sys } from "typescript";
import type { CompilerOptions, Diagnostic } from "typescript";
import { connectionSchema } from "../../../provider/lib/connection";

/**
 * The compile-time assertions, one per line, as a virtual file next to this one. The project's tsconfig sets
 * `isolatedModules`, so ts-jest only transpiles and would never see a type error; the TypeScript compiler API checks
 * them here instead (under the project's own compiler options), and a failing assertion fails its named test without
 * breaking `npm run build` for everyone else.
 */
const TYPE_ASSERTIONS = {
  "ours to @pulumi/command": "export const a1: CommandConnection = ours;",
  "ours to @pulumi/command, their overlap only": "export const a2: TheirOverlap = ours;",
  "@pulumi/command with host keys set, to ours": "export const a3: OurOverlap = theirsPinned;",
  "@pulumi/command without host keys is NOT ours (hostKey is required)": "export const a4: Assignable<TheirOverlap, OurOverlap> = false;",
  "one literal typed as both": "export const a5: [OurOverlap, CommandConnection] = [literal, literal];",
} as const;
type AssertionName = keyof typeof TYPE_ASSERTIONS;

const TYPE_PRELUDE = `
import type { types } from "@pulumi/command";
import type { ConnectionArgs } from "../../../provider/lib/connection";
type CommandConnection = types.input.remote.ConnectionArgs;
type CommandProxy = types.input.remote.ProxyConnectionArgs;
type Overlap = "host" | "port" | "user" | "hostKey" | "agentSocketPath" | "dialErrorLimit" | "perDialTimeout" | "proxy";
type ProxyOverlap = "host" | "port" | "user" | "hostKey" | "agentSocketPath";
/** Our connection, only the fields @pulumi/command also has. */
type OurOverlap = Pick<ConnectionArgs, Overlap>;
/** Theirs, only the fields we also have (in proxy too). */
type TheirOverlap = Omit<Pick<CommandConnection, Overlap>, "proxy"> & { proxy?: Pick<CommandProxy, ProxyOverlap> };
/** Theirs with the host keys present, as enjailed requires. */
type TheirPinned = Omit<TheirOverlap, "hostKey" | "proxy"> & {
  hostKey: NonNullable<CommandConnection["hostKey"]>;
  proxy?: Omit<Pick<CommandProxy, ProxyOverlap>, "hostKey"> & { hostKey: NonNullable<CommandProxy["hostKey"]> };
};
/** true only when A is assignable to B (no distribution over unions). */
type Assignable<A, B> = [A] extends [B] ? true : false;
declare const ours: OurOverlap;
declare const theirsPinned: TheirPinned;
const literal = {
  host: "127.0.0.2", port: 40123, user: "admin", hostKey: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
  agentSocketPath: "/run/a.sock", dialErrorLimit: 3, perDialTimeout: 5,
  proxy: { host: "192.0.2.1", port: 2222, user: "jump", hostKey: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8" },
};
`;

/** Type-checks the assertions; returns the compiler's complaints per assertion (empty when it holds). */
function typeCheckAssertions(): Record<AssertionName, string[]> {
  const root = join(__dirname, "..", "..", "..");
  const file = join(__dirname, "__commandCompat.types.ts");
  const names = Object.keys(TYPE_ASSERTIONS) as AssertionName[];
  const prelude = TYPE_PRELUDE.split("\n");
  const text = [...prelude, ...names.map((n) => TYPE_ASSERTIONS[n])].join("\n");
  const config = readConfigFile(join(root, "tsconfig.json"), (f) => sys.readFile(f));
  const options: CompilerOptions = { ...parseJsonConfigFileContent(config.config, sys, root).options, noEmit: true };
  const host = createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => f === file || sys.fileExists(f);
  host.readFile = (f) => (f === file ? text : sys.readFile(f));
  host.getSourceFile = (f, v, onError, create) => {
    if (f !== file) return getSourceFile(f, v, onError, create);
    return createSourceFile(f, text, v);
  };
  const program = createProgram([file], options, host);
  const diagnostics: Diagnostic[] = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()]
    .filter((d) => d.file?.fileName === file);
  const result = Object.fromEntries(names.map((n) => [n, [] as string[]])) as Record<AssertionName, string[]>;
  for (const d of diagnostics) {
    const line = d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line;
    const name = names[line - prelude.length];
    const message = flattenDiagnosticMessageText(d.messageText, "\n");
    if (name === undefined) throw new Error(`the type prelude does not compile: ${message}`);
    result[name].push(message);
  }
  return result;
}

const OVERLAP = ["host", "port", "user", "hostKey", "agentSocketPath", "dialErrorLimit", "perDialTimeout", "proxy"] as const;

// The same, on values: one literal typed as both.
const labConnection = {
  host: "127.0.0.2",
  port: 40123,
  user: "admin",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk9cR1bB0DTc2kSpbsrYPgDnD7N8OtPFQ3tRZnG8xkr",
  agentSocketPath: "/run/user/1000/ssh-agent.sock",
  dialErrorLimit: 3,
  perDialTimeout: 5,
  proxy: {
    host: "192.0.2.1",
    port: 2222,
    user: "jump",
    hostKey: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
    agentSocketPath: "/run/user/1000/other.sock",
  },
};

describe("connection and @pulumi/command's remote.ConnectionArgs", () => {
  let checked: Record<AssertionName, string[]>;
  beforeAll(() => {
    checked = typeCheckAssertions();
  }, 120_000);

  it.each(Object.keys(TYPE_ASSERTIONS) as AssertionName[])("types: %s", (name) => {
    expect(checked[name]).toEqual([]);
  });

  it("check: a @pulumi/command-style object keeps every overlapping field as given", () => {
    const parsed = connectionSchema().parse(labConnection);
    const picked = Object.fromEntries(OVERLAP.map((k) => [k, parsed[k]]));
    expect(picked).toEqual(labConnection);
  });

  it("defaults: port, user, dialErrorLimit and perDialTimeout default as @pulumi/command's do", () => {
    const minimal = { host: "192.0.2.10", hostKey: labConnection.hostKey };
    const ours = connectionSchema().parse(minimal);
    const theirs = types.input.remote.connectionArgsProvideDefaults(minimal);
    const defaulted = ["port", "user", "dialErrorLimit", "perDialTimeout"] as const;
    expect(Object.fromEntries(defaulted.map((k) => [k, ours[k]]))).toEqual(Object.fromEntries(defaulted.map((k) => [k, theirs[k]])));
    expect(Object.fromEntries(defaulted.map((k) => [k, ours[k]]))).toEqual({ port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 });
    // neither invents an agent socket or a proxy
    expect([ours.agentSocketPath, ours.proxy]).toEqual([undefined, undefined]);
    expect([theirs.agentSocketPath, theirs.proxy]).toEqual([undefined, undefined]);
  });

  it("defaults: proxy port and user default as @pulumi/command's do", () => {
    const proxy = { host: "192.0.2.1", hostKey: labConnection.proxy.hostKey };
    const ours = connectionSchema().parse({ host: "10.0.0.5", hostKey: labConnection.hostKey, proxy }).proxy;
    const theirs = types.input.remote.proxyConnectionArgsProvideDefaults(proxy);
    expect({ port: ours?.port, user: ours?.user }).toEqual({ port: theirs.port, user: theirs.user });
    expect({ port: ours?.port, user: ours?.user }).toEqual({ port: 22, user: "root" });
  });

  it("meaning: dialErrorLimit -1 is 'no limit' and perDialTimeout 0 is 'no timeout' in both; both are accepted", () => {
    // @pulumi/command documents -1 as unlimited dials and 0 as no per-dial timeout; the schema accepts both values
    const parsed = connectionSchema().parse({ ...labConnection, dialErrorLimit: -1, perDialTimeout: 0 });
    expect([parsed.dialErrorLimit, parsed.perDialTimeout]).toEqual([-1, 0]);
    expect(connectionSchema().safeParse({ ...labConnection, dialErrorLimit: -2 }).success).toBe(false);
    expect(connectionSchema().safeParse({ ...labConnection, perDialTimeout: -1 }).success).toBe(false);
  });

  it("differs: hostKey is required (top level and in proxy), where @pulumi/command checks no host key without it", () => {
    const { hostKey: _top, ...noKey } = labConnection;
    const top = connectionSchema().safeParse(noKey);
    expect(top.success).toBe(false);
    expect(top.error?.issues.map((i) => i.path.join("."))).toEqual(["hostKey"]);
    const { hostKey: _proxyKey, ...proxyNoKey } = labConnection.proxy;
    const proxy = connectionSchema().safeParse({ ...labConnection, proxy: proxyNoKey });
    expect(proxy.success).toBe(false);
    expect(proxy.error?.issues.map((i) => i.path.join("."))).toEqual(["proxy.hostKey"]);
  });

  it("differs: proxy.dialErrorLimit and proxy.perDialTimeout are not fields of ours; they are dropped, and the top-level values apply to the jump host too", () => {
    const withDials = { ...labConnection, proxy: { ...labConnection.proxy, dialErrorLimit: 1, perDialTimeout: 99 } };
    const parsed = connectionSchema().parse(withDials);
    expect(parsed.proxy).toEqual(labConnection.proxy);
    expect([parsed.dialErrorLimit, parsed.perDialTimeout]).toEqual([3, 5]);
  });

  it("differs: password, privateKey and privateKeyPassword are not accepted as inputs (dropped: credentials never enter state)", () => {
    const secrets = { password: "pw", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----", privateKeyPassword: "pp" };
    const parsed = connectionSchema().parse({ ...labConnection, ...secrets, proxy: { ...labConnection.proxy, ...secrets } }) as Record<string, unknown>;
    expect(Object.keys(secrets).filter((k) => k in parsed)).toEqual([]);
    expect(Object.keys(secrets).filter((k) => k in (parsed.proxy as Record<string, unknown>))).toEqual([]);
  });
});
