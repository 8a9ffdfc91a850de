/**
 * stack — runs a Pulumi program on disk through the real engine, offline.
 *
 *   node dist/scripts/stack.js <preview|up|refresh|destroy|export|outputs|rm> --program DIR [options]
 *
 * Why this exists: the engine we can build from registry packages is the Pulumi CLI plus the dynamic-provider
 * launcher, but not `pulumi-language-nodejs` (see docs/CONTRACTS.md). The Automation API runs a program *inline*:
 * this Node process hosts the language runtime and the CLI connects to it with `--client`. Everything else — the
 * engine, the state backend, the dynamic providers in their own process — is the real thing.
 *
 * The program directory holds `Pulumi.yaml` and `index.ts`; its compiled `index.js` under `dist/` is loaded.
 * The stack lives in a work directory of its own (default `.enjailed/work/<project>-<stack>`) that gets a copy of
 * Pulumi.yaml, the stack's config file and a `node_modules` link, so no run ever writes into the source tree.
 *
 * Options:
 *   --program DIR        program directory (with Pulumi.yaml); required
 *   --stack NAME         stack name (default "dev")
 *   --work-dir DIR       where the stack's Pulumi.yaml copy and config live
 *   --state-dir DIR      file backend directory (default .enjailed/state)
 *   --config K=V         set stack config before the operation (repeatable); --secret K=V for secrets
 *   --config-json JSON   set many: {"key": "value"} (values are strings)
 *   --expect-no-changes  fail when the operation would change anything
 *   --json               print one final line `ENJAILED_RESULT <json>` (for the test harness)
 *
 * Environment: ENJAILED_PULUMI_BIN (a bin dir holding `pulumi`; default: `scripts/engine.sh --check`),
 * ENJAILED_STATE_DIR, PULUMI_CONFIG_PASSPHRASE (default empty: a local lab has nothing to protect).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import type { OutputMap, Stack } from "@pulumi/pulumi/automation";

/** Repository root: this file runs from dist/scripts/. */
export const repoRoot = path.resolve(__dirname, "..", "..");

export type Operation = "preview" | "up" | "refresh" | "destroy" | "export" | "outputs" | "rm";

export interface StackRunOptions {
  operation: Operation;
  programDir: string;
  stackName: string;
  workDir?: string;
  stateDir?: string;
  config?: Record<string, string>;
  secretConfig?: Record<string, string>;
  removeConfig?: string[];
  expectNoChanges?: boolean;
  onOutput?: (text: string) => void;
}

export interface StackRunResult {
  operation: Operation;
  /** Counts by change kind as the engine reports them: create, update, delete, replace, same, … */
  changes: Record<string, number>;
  outputs: Record<string, unknown>;
  /** The deployment (for `export`). */
  deployment?: unknown;
}

/** Finds the engine's bin dir: ENJAILED_PULUMI_BIN, else what scripts/engine.sh --check reports. */
export function engineBinDir(): string {
  const fromEnv = process.env["ENJAILED_PULUMI_BIN"];
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!fs.existsSync(path.join(fromEnv, "pulumi"))) {
      throw new Error(`no Pulumi engine found: ENJAILED_PULUMI_BIN=${JSON.stringify(fromEnv)} has no pulumi; build one with: bash scripts/engine.sh`);
    }
    return fromEnv;
  }
  try {
    return execFileSync("bash", [path.join(repoRoot, "scripts", "engine.sh"), "--check"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr ?? "";
    throw new Error(`no Pulumi engine found: ${stderr.trim()}\nbuild one with: bash scripts/engine.sh (about 4 minutes the first time; cached afterwards)`);
  }
}

/** The compiled entry point of a program directory: <repo>/dist/<dir relative to repo>/index.js. */
export function compiledEntry(programDir: string): string {
  const rel = path.relative(repoRoot, path.resolve(programDir));
  if (rel.startsWith("..")) throw new Error(`program ${programDir} is outside the repository`);
  const entry = path.join(repoRoot, "dist", rel, "index.js");
  if (!fs.existsSync(entry)) throw new Error(`program ${programDir} is not compiled (${entry} is missing); run: npm run build`);
  return entry;
}

function projectName(programDir: string): string {
  const text = fs.readFileSync(path.join(programDir, "Pulumi.yaml"), "utf8");
  const match = /^name:\s*(\S+)\s*$/m.exec(text);
  if (match?.[1] === undefined) throw new Error(`${programDir}/Pulumi.yaml has no name`);
  return match[1];
}

/** Makes the stack's own work dir: Pulumi.yaml copy (main pointed at nothing we run) and node_modules link. */
function prepareWorkDir(programDir: string, workDir: string): void {
  fs.mkdirSync(workDir, { recursive: true });
  fs.copyFileSync(path.join(programDir, "Pulumi.yaml"), path.join(workDir, "Pulumi.yaml"));
  const link = path.join(workDir, "node_modules");
  if (!fs.existsSync(link)) fs.symlinkSync(path.join(repoRoot, "node_modules"), link, "dir");
}

/** The environment of an offline, isolated engine run. */
function engineEnv(stateDir: string): Record<string, string> {
  fs.mkdirSync(stateDir, { recursive: true });
  const home = path.join(stateDir, ".pulumi-home");
  fs.mkdirSync(home, { recursive: true });
  return {
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env["PULUMI_CONFIG_PASSPHRASE"] ?? "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
  };
}

/** Whether the engine has printed anything yet (so a failure need not repeat it). */
let engineSpoke = false;

export async function runStack(o: StackRunOptions): Promise<StackRunResult> {
  const programDir = path.resolve(o.programDir);
  const project = projectName(programDir);
  const entry = compiledEntry(programDir);
  const workDir = path.resolve(o.workDir ?? path.join(repoRoot, ".enjailed", "work", `${project}-${o.stackName}`));
  const stateDir = path.resolve(o.stateDir ?? process.env["ENJAILED_STATE_DIR"] ?? path.join(repoRoot, ".enjailed", "state"));
  prepareWorkDir(programDir, workDir);

  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(engineBinDir()) });
  const program = async (): Promise<Record<string, unknown>> => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(entry) as Record<string, unknown> | (() => Promise<Record<string, unknown>>);
    return typeof exported === "function" ? exported() : { ...exported };
  };
  const stack: Stack = await LocalWorkspace.createOrSelectStack(
    { stackName: o.stackName, projectName: project, program },
    { workDir, pulumiCommand, envVars: engineEnv(stateDir) },
  );
  for (const [key, value] of Object.entries(o.config ?? {})) await stack.setConfig(key, { value });
  for (const [key, value] of Object.entries(o.secretConfig ?? {})) await stack.setConfig(key, { value, secret: true });
  for (const key of o.removeConfig ?? []) await stack.removeConfig(key);

  // With --color never the engine still leaves a few of its colour tags (`<{%fg 1%}>`) in summaries: strip them.
  const print = o.onOutput ?? ((text: string) => process.stdout.write(text));
  const onOutput = (text: string): void => {
    engineSpoke = true;
    print(text.replace(/<\{%[^%]*%\}>/g, ""));
  };
  // The engine's diagnostics (the provider's error messages) arrive on stderr: stream them too.
  const onError = (text: string): void => {
    engineSpoke = true;
    process.stderr.write(text.replace(/<\{%[^%]*%\}>/g, ""));
  };
  const common = { onOutput, onError, color: "never" as const };
  switch (o.operation) {
    case "preview": {
      const r = await stack.preview({ ...common, diff: true, expectNoChanges: o.expectNoChanges ?? false });
      return { operation: o.operation, changes: { ...r.changeSummary }, outputs: {} };
    }
    case "up": {
      const r = await stack.up({ ...common, diff: true, expectNoChanges: o.expectNoChanges ?? false });
      return { operation: o.operation, changes: { ...r.summary.resourceChanges }, outputs: plainOutputs(r.outputs) };
    }
    case "refresh": {
      const r = await stack.refresh({ ...common, expectNoChanges: o.expectNoChanges ?? false });
      return { operation: o.operation, changes: { ...r.summary.resourceChanges }, outputs: {} };
    }
    case "destroy": {
      const r = await stack.destroy({ ...common });
      return { operation: o.operation, changes: { ...r.summary.resourceChanges }, outputs: {} };
    }
    case "export": {
      const d = await stack.exportStack();
      return { operation: o.operation, changes: {}, outputs: {}, deployment: d.deployment };
    }
    case "outputs":
      return { operation: o.operation, changes: {}, outputs: plainOutputs(await stack.outputs()) };
    case "rm":
      await stack.workspace.removeStack(o.stackName, { force: true });
      return { operation: o.operation, changes: {}, outputs: {} };
  }
}

function plainOutputs(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
}

/** Parses argv into StackRunOptions; throws with a usage line on bad input. */
export function parseArgs(argv: string[]): StackRunOptions & { json: boolean } {
  const usage = "usage: stack <preview|up|refresh|destroy|export|outputs|rm> --program DIR [--stack NAME] [--config K=V]… [--json]";
  const [operation, ...rest] = argv;
  const operations: Operation[] = ["preview", "up", "refresh", "destroy", "export", "outputs", "rm"];
  if (operation === undefined || !operations.includes(operation as Operation)) throw new Error(usage);
  const o: StackRunOptions & { json: boolean } = { operation: operation as Operation, programDir: "", stackName: "dev", json: false, config: {}, secretConfig: {} };
  const pair = (s: string | undefined, flag: string): [string, string] => {
    const i = s?.indexOf("=") ?? -1;
    if (s === undefined || i <= 0) throw new Error(`${flag} needs KEY=VALUE\n${usage}`);
    return [s.slice(0, i), s.slice(i + 1)];
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const next = (): string => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${usage}`);
      return v;
    };
    switch (flag) {
      case "--program": o.programDir = next(); break;
      case "--stack": o.stackName = next(); break;
      case "--work-dir": o.workDir = next(); break;
      case "--state-dir": o.stateDir = next(); break;
      case "--config": { const [k, v] = pair(next(), flag); o.config![k] = v; break; }
      case "--secret": { const [k, v] = pair(next(), flag); o.secretConfig![k] = v; break; }
      case "--config-json": Object.assign(o.config!, JSON.parse(next()) as Record<string, string>); break;
      case "--remove-config": (o.removeConfig ??= []).push(next()); break;
      case "--expect-no-changes": o.expectNoChanges = true; break;
      case "--json": o.json = true; break;
      default: throw new Error(`unknown option ${JSON.stringify(flag)}\n${usage}`);
    }
  }
  if (o.programDir === "") throw new Error(`--program is required\n${usage}`);
  return o;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const result = await runStack(o);
  if (o.json) process.stdout.write(`\nENJAILED_RESULT ${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    // The Automation API's CommandError repeats everything the engine printed, which is already on screen.
    const engineFailed = e instanceof Error && e.name === "CommandError" && engineSpoke;
    const message = engineFailed ? `pulumi ${process.argv[2] ?? ""} failed; the engine's output above says why` : e instanceof Error ? e.message : String(e);
    process.stderr.write(`stack: ${message}\n`);
    process.exit(1);
  });
}
