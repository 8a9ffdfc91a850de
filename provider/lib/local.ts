/**
 * The local transport: commands run through the local /bin/sh instead of SSH, for a provider that runs on the
 * FreeBSD host itself. Select it with `connection.transport: "local"`; `run()` then uses it with the same options,
 * escalation and errors as over SSH (escalation is skipped when the provider process already runs as root).
 */

/** A finished command, before `run()` checks its exit code. */
export interface RawOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Set when the command was stopped because it ran longer than the timeout. */
  timedOut?: boolean;
}

/** Run `command` with `/bin/sh -c`, feeding `stdin`; resolves with its exit code and output. */
export function runLocalCommand(command: string, stdin: string | undefined, timeoutMs: number | undefined): Promise<RawOutcome> {
  const { spawn } = require("child_process") as typeof import("child_process");
  return new Promise<RawOutcome>((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, timeoutMs);
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.stdin.on("error", () => undefined); // the command may exit without reading stdin
    child.on("error", (e) => {
      if (timer !== undefined) clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const outcome: RawOutcome = {
        exitCode: code ?? (signal === null ? 255 : 128 + localSignalNumber(signal)),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      };
      if (timedOut) outcome.timedOut = true;
      resolve(outcome);
    });
    child.stdin.end(stdin ?? "");
  });
}

function localSignalNumber(signal: string): number {
  const { constants } = require("os") as typeof import("os");
  return (constants.signals as Record<string, number>)[signal] ?? 127;
}

/** True when the provider process itself runs as root (then the local transport needs no escalation). */
export function localIsRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}
