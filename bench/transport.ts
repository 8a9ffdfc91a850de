/**
 * Transport benchmark (issue #4): the pooled `run()` against the naive design, one SSH connection per command.
 *
 *   npm run build && node dist/bench/transport.js [commands=100] [repeats=3]
 *
 * Not a test: it starts a fresh lab (tests/lab/lab.ts, real OpenSSH on a loopback address of its own), runs the
 * same read, `zfs get -H -p -o value guid zroot/usr`, `commands` times per measurement, and prints a table.
 *
 * Measurements: design (pooled | naive) x pattern (sequential | concurrent) x become (none | doas), each repeated
 * `repeats` times. For every run it reports the wall-clock total, the per-command median and p95 (from issuing the
 * command to its result, so in the concurrent pattern queueing time counts), commands per second, and how many SSH
 * connections the lab saw (distinct SSH_CONNECTION values in the lab's session log for the commands of that run).
 *
 * - pooled: `run()` from provider/lib/exec.ts, unchanged: one connection per target, channels multiplexed, at most
 *   8 in flight (the rest queue). The pool is emptied before each run, so every pooled run pays for one handshake.
 * - naive: written here, on purpose: a new ssh2 `Client` per command, the same host-key pinning and key file,
 *   the same `doas sh -c '<command>'` wrapping, closed after the command. The concurrent pattern opens all
 *   connections at once, as a naive `Promise.all` over it would.
 *
 * Every run checks each command's output (the dataset's guid, the same every time) and that the lab logged exactly
 * one session per command, so a design that silently failed or skipped commands cannot look fast.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { Client } from "ssh2";
import type { ClientChannel } from "ssh2";
import { connectionSchema, hostKeyMatches, parseHostKey } from "../provider/lib/connection";
import type { ConnectionInputs } from "../provider/lib/connection";
import { closeSshConnections, run, sshPoolStats } from "../provider/lib/exec";
import { quote } from "../provider/lib/sh";
import { startLab } from "../tests/lab/lab";
import type { Lab, LabConnection } from "../tests/lab/lab";

const COMMAND = "zfs get -H -p -o value guid zroot/usr";
/**
 * Upper bounds for the command-line arguments: every loop below is bounded by them. The naive concurrent pattern
 * opens `commands` connections at once, and the lab's sshd (MaxStartups 128:30:256) starts refusing
 * unauthenticated connections at random beyond 128, so more commands would measure refusals, not the design.
 */
const MAX_COMMANDS = 120;
const MAX_REPEATS = 10;

type Design = "pooled" | "naive";
type Pattern = "sequential" | "concurrent";
type Become = "none" | "doas";

/** Every measurement, in the order the tables show them. */
function measurements(): { design: Design; pattern: Pattern; become: Become }[] {
  const out: { design: Design; pattern: Pattern; become: Become }[] = [];
  for (const become of ["none", "doas"] as const) {
    for (const pattern of ["sequential", "concurrent"] as const) {
      for (const design of ["naive", "pooled"] as const) out.push({ design, pattern, become });
    }
  }
  return out;
}

/** One command's outcome as both designs report it. */
interface Outcome {
  stdout: string;
  exitCode: number;
}

/** One measured run of `commands` commands. */
interface Row {
  design: Design;
  pattern: Pattern;
  become: Become;
  repeat: number;
  totalMs: number;
  medianMs: number;
  p95Ms: number;
  perSecond: number;
  /** Distinct SSH connections in the lab's session log for this run's commands. */
  connections: number;
}

// ── statistics ─────────────────────────────────────────────────────────────────────────────────────────────────

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? NaN;
}

function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

// ── the naive design ───────────────────────────────────────────────────────────────────────────────────────────

/** Connect, run one command, disconnect. Host key pinned exactly as run() pins it. */
function naiveExec(lab: LabConnection, privateKey: Buffer, line: string): Promise<Outcome> {
  const pinned = parseHostKey(lab.hostKey);
  return new Promise<Outcome>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      client.end();
      f();
    };
    client.on("error", (err: Error) => settle(() => reject(new Error(`naive: connecting to ${lab.host}:${lab.port}: ${err.message}`))));
    client.on("close", () => settle(() => reject(new Error(`naive: ${lab.host}:${lab.port} closed the connection early`))));
    client.on("ready", () => {
      client.setNoDelay(true); // as run() does, so the comparison stays fair
      client.exec(line, (err: Error | undefined, stream: ClientChannel) => {
        if (err) return settle(() => reject(err));
        const out: Buffer[] = [];
        let exitCode = -1;
        stream.on("data", (d: Buffer) => out.push(d));
        stream.stderr.resume(); // drain it; the check on stdout catches any failure
        stream.on("exit", (code: number | null) => {
          exitCode = code ?? -1;
        });
        stream.on("close", () => settle(() => resolve({ stdout: Buffer.concat(out).toString("utf8"), exitCode })));
        stream.end();
      });
    });
    client.connect({
      host: lab.host,
      port: lab.port,
      username: lab.user,
      privateKey,
      readyTimeout: 30_000,
      hostVerifier: (key: Buffer): boolean => hostKeyMatches(pinned, key),
    });
  });
}

// ── one run ────────────────────────────────────────────────────────────────────────────────────────────────────

/** Issue `n` commands in the given pattern; returns per-command latencies and outcomes. */
async function issue(n: number, pattern: Pattern, one: () => Promise<Outcome>): Promise<{ latencies: number[]; outcomes: Outcome[] }> {
  const timed = async (): Promise<{ ms: number; outcome: Outcome }> => {
    const t = process.hrtime.bigint();
    const outcome = await one();
    return { ms: since(t), outcome };
  };
  const results: { ms: number; outcome: Outcome }[] = [];
  if (pattern === "sequential") {
    for (let i = 0; i < n; i++) results.push(await timed());
  } else {
    results.push(...(await Promise.all(Array.from({ length: n }, timed))));
  }
  return { latencies: results.map((r) => r.ms), outcomes: results.map((r) => r.outcome) };
}

async function measure(
  lab: Lab, conn: ConnectionInputs, privateKey: Buffer, expected: string,
  design: Design, pattern: Pattern, become: Become, repeat: number, n: number,
): Promise<Row> {
  await closeSshConnections(); // each pooled run starts cold: its first command pays for the handshake
  const logged = (await lab.sessions()).length;
  const dialsBefore = sshPoolStats().dials;
  const c: ConnectionInputs = { ...conn, become };
  const line = become === "doas" ? `doas sh -c ${quote(COMMAND)}` : COMMAND;
  const lc = lab.connection; // a getter that reads lab.json: read it once, not once per command
  const one = design === "pooled"
    ? async (): Promise<Outcome> => run(c, COMMAND, { idempotent: true })
    : (): Promise<Outcome> => naiveExec(lc, privateKey, line);

  const start = process.hrtime.bigint();
  const { latencies, outcomes } = await issue(n, pattern, one);
  const totalMs = since(start);

  const wrong = outcomes.find((o) => o.exitCode !== 0 || o.stdout.trim() !== expected);
  if (wrong !== undefined) throw new Error(`${design}/${pattern}/${become}: a command returned exit ${wrong.exitCode}, ${JSON.stringify(wrong.stdout)}`);
  const sessions = (await lab.sessions()).slice(logged);
  if (sessions.length !== n) throw new Error(`${design}/${pattern}/${become}: the lab logged ${sessions.length} sessions for ${n} commands`);
  const connections = new Set(sessions.map((s) => s.connection)).size;
  if (design === "pooled" && sshPoolStats().dials - dialsBefore !== connections) {
    throw new Error(`pooled/${pattern}/${become}: the pool dialled ${sshPoolStats().dials - dialsBefore} times, the lab saw ${connections} connections`);
  }
  return {
    design, pattern, become, repeat, totalMs,
    medianMs: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    perSecond: n / (totalMs / 1000),
    connections,
  };
}

// ── output ─────────────────────────────────────────────────────────────────────────────────────────────────────

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(" | ")} |`;
  return [fmt(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(fmt)].join("\n");
}

function boundedArg(index: number, fallback: number, max: number, what: string): number {
  const text = process.argv[index];
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${what} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

async function main(): Promise<void> {
  const n = boundedArg(2, 100, MAX_COMMANDS, "commands");
  const repeats = boundedArg(3, 3, MAX_REPEATS, "repeats");
  const ssh2Version = (JSON.parse(readFileSync(require.resolve("ssh2/package.json"), "utf8")) as { version: string }).version;
  console.log(`machine: nproc ${cpus().length}, ${cpus()[0]?.model ?? "unknown CPU"}, Linux ${release()}, node ${process.version}, ssh2 ${ssh2Version}`);
  // Other work on the machine shows up in the figures; the load average says how much there was.
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`command: ${COMMAND}; ${n} commands per run, ${repeats} runs per measurement; pooled run() allows ${process.env.ENJAILED_SSH_MAX_CHANNELS ?? "8"} channels in flight`);

  const lab = await startLab();
  try {
    const lc = lab.connection;
    // run() finds the key here (docs/transport.md); no agent, so both designs authenticate the same way.
    process.env.ENJAILED_SSH_KEY_FILE = lc.privateKeyFile;
    delete process.env.SSH_AUTH_SOCK;
    const privateKey = readFileSync(lc.privateKeyFile);
    const conn = connectionSchema().parse({ host: lc.host, port: lc.port, user: lc.user, hostKey: lc.hostKey, become: "doas" });
    // Warm-up, not measured: the answer every command must give, and the first-use costs of both paths.
    const expected = (await run(conn, COMMAND)).stdout.trim();
    if (!/^\d+$/.test(expected)) throw new Error(`warm-up: unexpected guid ${JSON.stringify(expected)}`);
    await naiveExec(lc, privateKey, COMMAND);
    console.log(`lab: ${lc.user}@${lc.host}:${lc.port} (fresh), zroot/usr guid ${expected}\n`);

    // Repeats are the outer loop, so a change in machine load during the benchmark spreads over every measurement
    // instead of falling on one of them.
    const cells = measurements();
    const rows: Row[] = [];
    for (let r = 1; r <= repeats; r++) {
      for (const { design, pattern, become } of cells) {
        const row = await measure(lab, conn, privateKey, expected, design, pattern, become, r, n);
        rows.push(row);
        process.stderr.write(`  run ${r}: ${design} ${pattern} become=${become}: ${row.totalMs.toFixed(0)} ms\n`);
      }
    }
    await closeSshConnections();
    const order = (r: Row): number => cells.findIndex((c) => c.design === r.design && c.pattern === r.pattern && c.become === r.become);
    rows.sort((a, b) => order(a) - order(b) || a.repeat - b.repeat);

    console.log(table(
      ["design", "pattern", "become", "run", "total ms", "median ms", "p95 ms", "cmd/s", "ssh conns"],
      rows.map((r) => [r.design, r.pattern, r.become, String(r.repeat), r.totalMs.toFixed(0), r.medianMs.toFixed(1),
        r.p95Ms.toFixed(1), r.perSecond.toFixed(0), String(r.connections)]),
    ));

    // Summary: median of the runs' totals per measurement, and how much faster the pool is.
    const medianTotal = (d: Design, p: Pattern, b: Become): number =>
      percentile(rows.filter((r) => r.design === d && r.pattern === p && r.become === b).map((r) => r.totalMs), 50);
    const summary = cells.filter((c) => c.design === "naive").map(({ pattern, become }) => {
      const naive = medianTotal("naive", pattern, become);
      const pooled = medianTotal("pooled", pattern, become);
      return [pattern, become, naive.toFixed(0), pooled.toFixed(0), `${(naive / pooled).toFixed(1)}x`];
    });
    console.log(`\nmedian total over ${repeats} runs; load average after: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    console.log(table(["pattern", "become", "naive ms", "pooled ms", "pooled speed-up"], summary));
  } finally {
    await closeSshConnections();
    await lab.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
