// JailConf provider methods against a scripted host: the file primitives keep an in-memory file system and `run`
// answers `jls` and `mkdir` (tests/helpers/fakeHost.ts did not exist when this was written).
import { jailConfProvider, jailConfSchema, renderJailConf } from "../../provider/jailConf";
import type { JailConfInputs } from "../../provider/jailConf";
import { seedFile, seedParameters, seedVariables } from "../../examples/jail-conf/seed";

jest.mock("../../provider/lib/exec", () => ({ ...jest.requireActual("../../provider/lib/exec"), run: jest.fn() }));
jest.mock("../../provider/lib/files", () => ({
  readRemoteFile: jest.fn(),
  writeRemoteFile: jest.fn(),
  removeRemoteFile: jest.fn(),
}));
/* eslint-disable @typescript-eslint/no-require-imports */
const exec = require("../../provider/lib/exec") as typeof import("../../provider/lib/exec");
const files = require("../../provider/lib/files") as typeof import("../../provider/lib/files");
/* eslint-enable @typescript-eslint/no-require-imports */

const connection = { host: "192.0.2.10", hostKey: "SHA256:" + "A".repeat(43) };
const FILE = "/etc/jail.conf.d/bhyve.conf";

function inputs(over: Record<string, unknown> = {}): JailConfInputs {
  return jailConfSchema().parse({ connection, name: "bhyve", variables: seedVariables, parameters: seedParameters, ...over });
}

describe("JailConf provider (scripted host)", () => {
  let fs: Map<string, string>;
  let writes: { path: string; options: unknown }[];
  let commands: string[];
  let running: boolean;
  let mode: string;
  const p = jailConfProvider;

  beforeEach(() => {
    fs = new Map();
    writes = [];
    commands = [];
    running = false;
    mode = "0644";
    (files.readRemoteFile as jest.Mock).mockImplementation(async (_c: unknown, path: string) =>
      fs.has(path) ? { kind: "file", content: fs.get(path), mode, owner: "root", group: "wheel" } : { kind: "missing" });
    (files.writeRemoteFile as jest.Mock).mockImplementation(async (_c: unknown, path: string, content: string, options: unknown) => {
      fs.set(path, content);
      writes.push({ path, options });
    });
    (files.removeRemoteFile as jest.Mock).mockImplementation(async (_c: unknown, path: string) => (fs.delete(path) ? "removed" : "absent"));
    (exec.run as jest.Mock).mockImplementation(async (_c: unknown, command: string, options: { allowExitCodes?: number[] } = {}) => {
      commands.push(command);
      const r = command.startsWith("jls")
        ? running ? { exitCode: 0, stdout: "7\n", stderr: "" } : { exitCode: 1, stdout: "", stderr: 'jls: jail "bhyve" not found\n' }
        : { exitCode: 0, stdout: "", stderr: "" };
      const result = { command, target: "root@192.0.2.10:22", ...r };
      if (r.exitCode !== 0 && !(options.allowExitCodes ?? []).includes(r.exitCode)) throw new exec.RemoteCommandError(result);
      return result;
    });
  });

  it("create: writes the rendering atomically as root:wheel 0644", async () => {
    const r = await p.create(inputs());
    expect(r.id).toBe(FILE);
    expect(commands).toEqual(["mkdir -p /etc/jail.conf.d"]);
    expect(writes).toEqual([{ path: FILE, options: { mode: "0644", owner: "root", group: "wheel", keepPrevious: false } }]);
    expect(fs.get(FILE)).toBe(renderJailConf(inputs()));
    expect(r.outs!.content).toBe(fs.get(FILE));
  });

  it("create: adopts the seed's hand-written file as is (same meaning), writing nothing", async () => {
    fs.set(FILE, seedFile);
    const r = await p.create(inputs());
    expect(writes).toEqual([]);
    expect(fs.get(FILE)).toBe(seedFile);
    expect(r.outs!.file).toBe(FILE);
  });

  it("fails create over a file that means something else, listing the differences", async () => {
    fs.set(FILE, seedFile.replace("devfs_ruleset = 5;", "devfs_ruleset = 4;").replace("  vnet;\n", ""));
    await expect(p.create(inputs())).rejects.toThrow(
      "creating jail.conf file (/etc/jail.conf.d/bhyve.conf): it already exists and differs from the inputs; set takeOver to take it over\n"
      + '  devfs_ruleset: want "5", host has "4"\n'
      + "  vnet: want set (flag), host has nothing",
    );
    expect(writes).toEqual([]);
  });

  it("create: takeOver overwrites, keeping the previous content", async () => {
    fs.set(FILE, "garbage {");
    await p.create(inputs({ takeOver: true }));
    expect(writes).toEqual([{ path: FILE, options: { mode: "0644", owner: "root", group: "wheel", keepPrevious: true } }]);
  });

  it("read: whitespace, comments and order are not drift", async () => {
    const outs = (await p.create(inputs())).outs!;
    fs.set(FILE, seedFile.replace(/\n\n/g, "\n/* reflowed */\n"));
    const r = await p.read!(FILE, outs);
    expect(r.props?.content).toBe(outs!.content);
    expect((await p.diff!(FILE, r.props!, inputs())).changes).toBe(false);
  });

  it("read: a changed meaning is recorded, and diff shows an update", async () => {
    const outs = (await p.create(inputs())).outs!;
    const edited = fs.get(FILE)!.replace('path = "/usr/jail/${name}";', 'path = "/jails/${name}";');
    fs.set(FILE, edited);
    const r = await p.read!(FILE, outs);
    expect(r.props?.content).toBe(edited);
    expect(await p.diff!(FILE, r.props!, inputs())).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("read: a mode other than 0644 is drift", async () => {
    const outs = (await p.create(inputs())).outs!;
    mode = "0600";
    const r = await p.read!(FILE, outs);
    expect(r.props?.ownership).toBe("0600 root:wheel");
    expect((await p.diff!(FILE, r.props!, inputs())).changes).toBe(true);
  });

  it("fails create over a file with the right meaning but the wrong mode, unless takeOver", async () => {
    fs.set(FILE, seedFile);
    mode = "0600";
    await expect(p.create(inputs())).rejects.toThrow('mode and ownership: want "0644 root:wheel", host has "0600 root:wheel"');
  });

  it("read: a removed file gives an empty id", async () => {
    const outs = (await p.create(inputs())).outs!;
    fs.delete(FILE);
    expect(await p.read!(FILE, outs)).toEqual({ id: "" });
  });

  it("update: rewrites the file", async () => {
    const outs = (await p.create(inputs())).outs!;
    const news = inputs({ parameters: { ...seedParameters, devfs_ruleset: 6 } });
    const r = await p.update!(FILE, outs, news);
    expect(fs.get(FILE)).toContain("  devfs_ruleset = 6;\n");
    expect(r.outs?.content).toBe(fs.get(FILE));
  });

  it("delete: removes the file when the jail is not running", async () => {
    const outs = (await p.create(inputs())).outs!;
    await p.delete!(FILE, outs);
    expect(commands).toContain("jls -j 'bhyve' jid");
    expect(fs.has(FILE)).toBe(false);
  });

  it("fails delete while the jail runs, keeping the file; deleteWhileRunning overrides", async () => {
    const outs = (await p.create(inputs())).outs!;
    running = true;
    await expect(p.delete!(FILE, outs)).rejects.toThrow(
      'deleting jail.conf file (/etc/jail.conf.d/bhyve.conf): jail "bhyve" is running (jid 7); stop it first (service jail stop bhyve) or set deleteWhileRunning',
    );
    expect(fs.has(FILE)).toBe(true);
    await p.delete!(FILE, { ...outs, deleteWhileRunning: true });
    expect(fs.has(FILE)).toBe(false);
  });
});
