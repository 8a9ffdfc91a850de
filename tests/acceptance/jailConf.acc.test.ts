/**
 * JailConf through the real engine over real SSH, against the lab (or ENJAILED_TEST_HOST): create (the runbook's
 * file, byte-stable and equal in meaning to the hand-written one), no-op preview, update in place, whitespace-only
 * edits that are not drift, a changed meaning found by refresh, out-of-band delete, replace, adopt existing, refusal
 * to delete while the jail runs, and delete. Program: examples/jail-conf (compiled by `npm run build`).
 */
import { randomBytes } from "crypto";
import { EngineRunError, openStack } from "../helpers/engine";
import type { TestStack } from "../helpers/engine";
import { fileMeaning, jailConfSchema, renderJailConf } from "../../provider/jailConf";
import { meaningDifferences } from "../../provider/jailConfSyntax";
import { seedFile, seedParameters, seedVariables } from "../../examples/jail-conf/seed";
import { acquireTarget, stackConfig } from "./target";
import type { Target } from "./target";

const minutes = 60_000;
jest.setTimeout(15 * minutes);

const tag = () => randomBytes(3).toString("hex");
const path = (name: string) => `/etc/jail.conf.d/${name}.conf`;

let target: Target;

beforeAll(async () => {
  target = await acquireTarget();
});

afterAll(async () => {
  await target?.release();
});

function connectionConfig(): Record<string, string> {
  return stackConfig(target.connection, { privateKeyFile: target.privateKeyFile });
}

async function host(command: string, input?: string): Promise<string> {
  const r = await target?.hostExec(command, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`host: ${command}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function readConf(name: string): Promise<string | undefined> {
  const r = await target?.hostExec(`cat '${path(name)}'`);
  return r.code === 0 ? r.stdout : undefined;
}

function expected(name: string, devfsRuleset = 5): string {
  return renderJailConf(jailConfSchema().parse({
    connection: { host: "h", hostKey: "SHA256:" + "A".repeat(43) },
    name,
    variables: seedVariables,
    parameters: { ...seedParameters, devfs_ruleset: devfsRuleset },
  }));
}

describe("JailConf acceptance", () => {
  describe("lifecycle", () => {
    const first = `acc${tag()}`;
    const second = `${first}b`;
    let stack: TestStack;

    beforeAll(async () => {
      stack = await openStack("examples/jail-conf", { config: { ...connectionConfig(), name: first } });
    });

    afterAll(async () => {
      await stack?.destroy().catch(() => undefined);
      await stack?.remove();
      await target?.hostExec(`rm -f '${path(first)}' '${path(second)}'`);
    });

    it("basic: writes the runbook's file, same meaning as the hand-written one, 0644 root:wheel", async () => {
      expect((await stack.up()).changes).toEqual({ create: 2 });
      const content = await readConf(first);
      expect(content).toBe(expected(first));
      expect(meaningDifferences(fileMeaning(content!, first), fileMeaning(seedFile.replace(/^bhyve/, first), first))).toEqual([]);
      expect((await host(`ls -l '${path(first)}'`)).trim().split(/\s+/).filter((_w, i) => [0, 2, 3].includes(i)).join(" ")).toBe("-rw-r--r-- root wheel");
    });

    it("no-op preview: nothing changes, and a second up leaves the bytes alone", async () => {
      expect((await stack.preview({ expectNoChanges: true })).changes).toEqual({ same: 2 });
      expect((await stack.up()).changes).toEqual({ same: 2 });
      expect(await readConf(first)).toBe(expected(first));
    });

    it("update devfs_ruleset: in place", async () => {
      await stack.setConfig("devfsRuleset", "6");
      expect((await stack.up()).changes).toEqual({ same: 1, update: 1 });
      expect(await readConf(first)).toBe(expected(first, 6));
    });

    it("comments and blank lines added by hand are not drift", async () => {
      await host(`cat > '${path(first)}'`, `# edited by hand\n${expected(first, 6).replace(/\n\n/g, "\n\n// note\n")}`);
      expect((await stack.refresh()).changes).toEqual({ same: 2 });
    });

    it("drift: a changed parameter shows in refresh, and up writes the file back", async () => {
      await host(`cat > '${path(first)}'`, expected(first, 6).replace('path = "/usr/jail/${name}";', 'path = "/jails/${name}";'));
      expect((await stack.refresh()).changes).toEqual({ same: 1, update: 1 });
      expect((await stack.up()).changes).toEqual({ same: 1, update: 1 });
      expect(await readConf(first)).toBe(expected(first, 6));
    });

    it("disappears: removed out of band, refresh drops it, up writes it again", async () => {
      await host(`rm '${path(first)}'`);
      expect((await stack.refresh()).changes).toEqual({ same: 1, delete: 1 });
      expect((await stack.up()).changes).toEqual({ same: 1, create: 1 });
      expect(await readConf(first)).toBe(expected(first, 6));
    });

    it("replace name: a new file, the old one removed", async () => {
      await stack.setConfig("name", second);
      expect((await stack.up()).changes).toEqual({ same: 1, replace: 1 });
      expect(await readConf(first)).toBeUndefined();
      expect(await readConf(second)).toBe(expected(second, 6));
    });

    it("fails delete while the jail runs, then deletes once it is stopped", async () => {
      await host(`jail -c name=${second} path=/ persist`);
      try {
        const refused = await stack.destroy().then(() => undefined, (e: EngineRunError) => e);
        expect(refused?.output).toMatch(new RegExp(`jail "${second}" is running \\(jid \\d+\\); stop it first`));
        expect(await readConf(second)).toBeDefined();
      } finally {
        await host(`jail -R ${second}`);
      }
      expect((await stack.destroy()).changes).toEqual({ delete: 2 });
      expect(await readConf(second)).toBeUndefined();
    });
  });

  describe("adopt existing", () => {
    const same = `acc${tag()}`;
    const differs = `acc${tag()}`;
    const stacks: TestStack[] = [];

    afterAll(async () => {
      for (const s of stacks) {
        await s.destroy().catch(() => undefined);
        await s.remove();
      }
      await target?.hostExec(`rm -f '${path(same)}' '${path(differs)}' '${path(differs)}.orig'`);
    });

    it("adopts the runbook's hand-written file as is", async () => {
      const handWritten = seedFile.replace(/^bhyve/, same);
      await host(`mkdir -p /etc/jail.conf.d && cat > '${path(same)}' && chown root:wheel '${path(same)}' && chmod 0644 '${path(same)}'`, handWritten);
      const stack = await openStack("examples/jail-conf", { config: { ...connectionConfig(), name: same } });
      stacks.push(stack);
      expect((await stack.up()).changes).toEqual({ create: 2 });
      expect(await readConf(same)).toBe(handWritten);
    });

    it("fails on a file that means something else, then takeOver writes it and keeps the old one", async () => {
      const old = seedFile.replace(/^bhyve/, differs).replace("devfs_ruleset = 5;", "devfs_ruleset = 4;");
      await host(`mkdir -p /etc/jail.conf.d && cat > '${path(differs)}' && chown root:wheel '${path(differs)}' && chmod 0644 '${path(differs)}'`, old);
      const stack = await openStack("examples/jail-conf", { config: { ...connectionConfig(), name: differs } });
      stacks.push(stack);
      const refused = await stack.up().then(() => undefined, (e: EngineRunError) => e);
      expect(refused).toBeInstanceOf(EngineRunError);
      expect(refused?.output).toMatch(/it already exists and differs from the inputs; set takeOver to take it over/);
      expect(refused?.output).toMatch(/devfs_ruleset: want "5", host has "4"/);
      expect(await readConf(differs)).toBe(old);
      await stack.setConfig("takeOver", "true");
      await stack.up();
      expect(await readConf(differs)).toBe(expected(differs));
      expect(await host(`cat '${path(differs)}.orig'`)).toBe(old);
    });
  });
});
