/**
 * Engine harness for jest: drives a program on disk through the real Pulumi engine.
 *
 * Each operation runs `node dist/scripts/stack.js` in a child process (the Automation API with the program
 * inline, see scripts/stack.ts), so the program and its closure serialization run under plain Node module
 * semantics, exactly as for a user, never inside jest's module registry. Every stack gets its own temp work dir
 * and file backend; nothing is written into the source tree.
 *
 *   const stack = await openStack("examples/zfs-dataset", { config: { dataset: "zroot/x" } });
 *   const up = await stack.up();              // up.changes.create === 2, up.output is what Pulumi printed
 *   await stack.preview({ expectNoChanges: true });
 *   await stack.destroy(); await stack.remove();
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const repoRoot = path.resolve(__dirname, "..", "..");
const runner = path.join(repoRoot, "dist", "scripts", "stack.js");

export interface OpResult {
  /** Counts by change kind as the engine reports them (create, update, delete, replace, same, …). */
  changes: Record<string, number>;
  /** Everything the engine printed (stdout and stderr, interleaved). */
  output: string;
  outputs: Record<string, unknown>;
}

export interface OpOptions {
  expectNoChanges?: boolean;
  /** Extra environment for this operation only (for example ENJAILED_SSH_KEY_FILE). */
  env?: Record<string, string>;
}

export interface TestStack {
  readonly name: string;
  readonly workDir: string;
  readonly stateDir: string;
  preview(o?: OpOptions): Promise<OpResult>;
  up(o?: OpOptions): Promise<OpResult>;
  refresh(o?: OpOptions): Promise<OpResult>;
  destroy(o?: OpOptions): Promise<OpResult>;
  /** Config is applied before the next operation. */
  setConfig(key: string, value: string, options?: { secret?: boolean }): Promise<void>;
  removeConfig(key: string): Promise<void>;
  /** The stack's deployment as `pulumi stack export` gives it. */
  state(): Promise<Deployment>;
  /** The raw text of the state file in the file backend (to search for leaked secrets). */
  stateFileText(): string;
  /** Removes the stack and its temp directories. */
  remove(): Promise<void>;
}

export interface Deployment {
  resources?: Array<{ urn: string; type: string; id?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }>;
  [key: string]: unknown;
}

export class EngineRunError extends Error {
  constructor(readonly operation: string, readonly exitCode: number | null, readonly output: string) {
    super(`pulumi ${operation} failed (exit ${String(exitCode)}):\n${output.split("\n").slice(-60).join("\n")}`);
  }
}

/** Runs `fn`, which must fail with an EngineRunError; returns the engine's output. */
export async function engineFailure(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof EngineRunError) return e.output;
    throw e;
  }
  throw new Error("expected the engine operation to fail, and it succeeded");
}

export interface OpenStackOptions {
  stackName?: string;
  config?: Record<string, string>;
  secretConfig?: Record<string, string>;
  /** Environment for every operation of this stack. */
  env?: Record<string, string>;
}

let counter = 0;

export async function openStack(programDir: string, options: OpenStackOptions = {}): Promise<TestStack> {
  if (!fs.existsSync(runner)) throw new Error(`${runner} is missing: run \`npm run build\` before the engine tests`);
  const name = options.stackName ?? `t${process.pid}x${counter++}`;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "enjailed-stack-"));
  const workDir = path.join(base, "work");
  const stateDir = path.join(base, "state");
  const pending: string[] = [];
  const queueConfig = (cfg: Record<string, string> | undefined, flag: string): void => {
    for (const [k, v] of Object.entries(cfg ?? {})) pending.push(flag, `${k}=${v}`);
  };
  queueConfig(options.config, "--config");
  queueConfig(options.secretConfig, "--secret");

  const op = async (operation: string, o: OpOptions = {}): Promise<OpResult & { deployment?: Deployment }> => {
    const args = [runner, operation, "--program", path.resolve(repoRoot, programDir), "--stack", name,
      "--work-dir", workDir, "--state-dir", stateDir, "--json", ...pending.splice(0)];
    if (o.expectNoChanges === true) args.push("--expect-no-changes");
    const { code, output } = await spawnCollect(process.execPath, args, { ...options.env, ...o.env });
    const line = output.split("\n").reverse().find((l) => l.startsWith("ENJAILED_RESULT "));
    if (code !== 0 || line === undefined) throw new EngineRunError(operation, code, output);
    const parsed = JSON.parse(line.slice("ENJAILED_RESULT ".length)) as { changes: Record<string, number>; outputs: Record<string, unknown>; deployment?: Deployment };
    return { changes: parsed.changes, outputs: parsed.outputs, output, ...(parsed.deployment ? { deployment: parsed.deployment } : {}) };
  };

  return {
    name, workDir, stateDir,
    preview: (o) => op("preview", o),
    up: (o) => op("up", o),
    refresh: (o) => op("refresh", o),
    destroy: (o) => op("destroy", o),
    async setConfig(key, value, o) { pending.push(o?.secret === true ? "--secret" : "--config", `${key}=${value}`); },
    async removeConfig(key) { pending.push("--remove-config", key); },
    async state() {
      const r = await op("export");
      return r.deployment ?? {};
    },
    stateFileText() {
      const files: string[] = [];
      const walk = (dir: string): void => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, entry.name);
          if (entry.isDirectory() && entry.name !== ".pulumi-home") walk(p);
          else if (entry.isFile() && p.includes(`${path.sep}stacks${path.sep}`)) files.push(fs.readFileSync(p, "utf8"));
        }
      };
      walk(stateDir);
      return files.join("\n");
    },
    async remove() {
      try { await op("rm"); } finally { fs.rmSync(base, { recursive: true, force: true }); }
    },
  };
}

function spawnCollect(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => { output += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { output += d.toString(); });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}
