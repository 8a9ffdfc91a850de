// `npm run lab -- up|down|reset|status|ssh [--name N] [--profile P] [--escalation doas,sudo]`
// (compiled: `node dist/tests/lab/cli.js ...`). See docs/lab.md.

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LAB_PROFILES, attachLab, defaultLabDir, isRunning, readState, sshArgs, startLab } from "./lab";
import type { Escalation, LabConnection, LabProfile } from "./lab";

const USAGE = `usage: lab up|down|reset|status|ssh [--name NAME] [--profile ${LAB_PROFILES.join("|")}] [--escalation doas,sudo]
  up      start the lab (kept running after this command exits); prints lab.json and an ssh command line
  down    stop the lab (its directory and state stay; up starts it again with the same state)
  reset   put a running lab back to its starting state (same address, port and keys)
  status  print whether the lab runs, and its lab.json
  ssh     open a shell in the lab as its admin user (extra arguments become the remote command)`;

interface Args {
  command: string;
  name: string;
  profile?: LabProfile;
  escalation?: Escalation[];
  rest: string[];
}

function parseArgs(argv: string[]): Args {
  const [command, ...tail] = argv;
  if (command === undefined || command === "-h" || command === "--help") throw new UsageError("");
  const args: Args = { command, name: "default", rest: [] };
  for (let i = 0; i < tail.length; i++) {
    const a = tail[i] as string;
    const value = (): string => {
      const v = tail[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--name") args.name = value();
    else if (a === "--profile") {
      const p = value();
      if (!(LAB_PROFILES as readonly string[]).includes(p)) throw new UsageError(`unknown profile ${JSON.stringify(p)}`);
      args.profile = p as LabProfile;
    } else if (a === "--escalation") {
      const list = value().split(",").filter((s) => s !== "");
      for (const e of list) if (e !== "doas" && e !== "sudo") throw new UsageError(`unknown escalation ${JSON.stringify(e)}`);
      args.escalation = list as Escalation[];
    } else if (a === "--") args.rest.push(...tail.slice(i + 1)), (i = tail.length);
    else args.rest.push(a);
  }
  return args;
}

class UsageError extends Error {}

function sshCommandLine(dir: string, c: LabConnection): string {
  return ["ssh", ...sshArgs(c, join(dir, "known_hosts"))].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");
}

function readConnection(dir: string): LabConnection | undefined {
  const p = join(dir, "lab.json");
  return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as LabConnection) : undefined;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const dir = defaultLabDir(args.name);
  const state = readState(dir);
  const running = state !== undefined && isRunning(state);
  switch (args.command) {
    case "up": {
      if (running) {
        console.log(`lab ${args.name} is already running`);
      } else {
        const t0 = process.hrtime.bigint();
        await startLab({ name: args.name, dir, profile: args.profile, escalation: args.escalation, keepRunning: true });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        console.log(`lab ${args.name} started in ${ms.toFixed(0)} ms`);
      }
      const c = readConnection(dir);
      if (c === undefined) throw new Error(`starting lab (${args.name}): no lab.json in ${dir}`);
      console.log(`connection: ${join(dir, "lab.json")}`);
      console.log(`shell:      ${sshCommandLine(dir, c)}`);
      return 0;
    }
    case "down":
      if (!running) {
        console.log(`lab ${args.name} is not running`);
        return 0;
      }
      await attachLab(dir).stop();
      console.log(`lab ${args.name} stopped (state kept in ${dir})`);
      return 0;
    case "reset":
      if (!running) throw new Error(`resetting lab (${args.name}): not running; start it with up`);
      await attachLab(dir).reset();
      console.log(`lab ${args.name} reset`);
      return 0;
    case "status": {
      console.log(`lab ${args.name}: ${running ? "running" : state ? "stopped" : "never started"} (${dir})`);
      const c = readConnection(dir);
      if (c !== undefined && running) console.log(JSON.stringify(c, null, 2));
      return running ? 0 : 3;
    }
    case "ssh": {
      if (!running) throw new Error(`opening a shell in lab (${args.name}): not running; start it with up`);
      const c = readConnection(dir);
      if (c === undefined) throw new Error(`opening a shell in lab (${args.name}): no lab.json in ${dir}`);
      const tty = args.rest.length === 0 ? ["-t"] : [];
      const child = spawn("ssh", [...sshArgs(c, join(dir, "known_hosts"), tty), ...args.rest], { stdio: "inherit" });
      return new Promise((r) => child.on("close", (code) => r(code ?? 1)));
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(args.command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      if (e.message) console.error(`lab: ${e.message}`);
      console.error(USAGE);
      process.exit(2);
    }
    console.error(`lab: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
