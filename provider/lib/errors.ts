/**
 * Error messages, in the grammar of STYLE.md §3.8:
 *
 *     <doing> <thing> (<id>): <cause>
 *       $ <command>
 *       <stderr tail>
 *       <stdout tail>
 *
 * A lowercase gerund, the thing as FreeBSD names it, the id in parentheses, no final period. stderr comes before
 * stdout; each is trimmed and cut to its last 40 lines. Stdin and environment values never appear.
 */

/** The parts of a command result that a message may show. Structurally the same as `RunResult`. */
export interface CommandOutcome {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  target: string;
}

/** How many lines of stderr and of stdout a message keeps. */
export const TAIL_LINES = 40;

/** The last {@link TAIL_LINES} lines of trimmed `text`, with a marker when lines were dropped. */
export function tail(text: string, lines = TAIL_LINES): string[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const all = trimmed.split("\n");
  if (all.length <= lines) return all;
  return [`… ${all.length - lines} earlier lines omitted`, ...all.slice(all.length - lines)];
}

/** The detail lines under a failed command: `  $ <command>`, then stderr, then stdout, each indented two spaces. */
export function commandDetails(r: CommandOutcome): string[] {
  return [`$ ${r.command}`, ...tail(r.stderr), ...tail(r.stdout)].map((l) => `  ${l}`);
}

/** The one-line cause for a command that exited with a code the caller did not allow. */
export function commandFailure(r: CommandOutcome): string {
  return `command failed with exit code ${r.exitCode} on ${r.target}`;
}

function isCommandOutcome(v: unknown): v is CommandOutcome {
  if (v === null || typeof v !== "object") return false;
  const r = v as Record<string, unknown>;
  return typeof r.command === "string" && typeof r.exitCode === "number" && typeof r.stderr === "string"
    && typeof r.stdout === "string" && typeof r.target === "string";
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  // An error built by serialized code may come from another realm's Error: trust its message all the same.
  const message = cause !== null && typeof cause === "object" ? (cause as { message?: unknown }).message : undefined;
  if (typeof message === "string") return message;
  if (typeof cause === "string") return cause;
  try {
    return JSON.stringify(cause) ?? String(cause);
  } catch {
    return String(cause);
  }
}

/**
 * `"<doing> <thing> (<id>): <cause>"`. When `cause` carries a command result (a `RemoteCommandError`), the cause is
 * its one-line summary (`command failed with exit code N on user@host:port`, or the timeout or escalation refusal)
 * followed by the command and the tails of stderr and stdout.
 * The original error is kept as `cause`.
 */
export function problem(doing: string, thing: string, id: string, cause: unknown): Error {
  const head = `${doing} ${thing} (${id}): `;
  const c = cause !== null && typeof cause === "object" ? (cause as { result?: unknown; summary?: unknown }) : {};
  const summary = typeof c.summary === "string" ? c.summary : undefined;
  const message = isCommandOutcome(c.result)
    ? [head + (summary ?? commandFailure(c.result)), ...commandDetails(c.result)].join("\n")
    : head + causeText(cause);
  return new Error(message, { cause });
}

/** An error the dynamic-provider host reports as "initialization failed": the engine keeps `id` and `properties`. */
export interface PartialFailure extends Error {
  id: string;
  properties: Record<string, unknown>;
  reasons: string[];
}

/**
 * For a create or update that made the thing but failed a later step: the engine records the resource (with these
 * `properties` as its outputs) instead of losing track of it, and the next `up` retries it as an update.
 * Returns the error; the caller throws it.
 */
export function partialFailure(id: string, properties: Record<string, unknown>, cause: Error): PartialFailure {
  const e = new Error(cause.message, { cause }) as PartialFailure;
  e.id = id;
  e.properties = properties;
  e.reasons = [cause.message];
  return e;
}
