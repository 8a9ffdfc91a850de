/**
 * The `connection` input every resource takes, and host-key pinning.
 *
 * Field names and meanings follow `@pulumi/command`'s `remote.ConnectionArgs` where they overlap (`host`, `port`,
 * `user`, `hostKey`, `agentSocketPath`, `proxy`, `dialErrorLimit`, `perDialTimeout`), so one object can configure both.
 * Unlike `@pulumi/command`, `hostKey` is required and always checked. The input carries no secrets: the private key
 * is found by the provider process (see docs/transport.md and ./config.ts).
 */
import { z } from "zod";
import type { PulumiInputs } from "./inputs";

/** How the key types of OpenSSH public key lines are spelled. */
function hostKeyPattern(): RegExp {
  return /^(?:\S+\s+)?((?:ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com))\s+([A-Za-z0-9+/]+={0,3})(?:\s.*)?$/;
}

function hostKeyField() {
  return z.string().refine(
    (v) => /^SHA256:[A-Za-z0-9+/]{43}=?$/.test(v.trim()) || hostKeyPattern().test(v.trim()),
    "must be an OpenSSH public key line such as \"ssh-ed25519 AAAA…\" or a fingerprint such as \"SHA256:…\" (43 base64 characters)",
  );
}

/** The connection input schema. Build it inside `check`; never hold it in a module-level constant. */
export function connectionSchema() {
  return z
    .object({
      /**
       * How commands reach the host: `ssh`, or `local` when the provider runs on the FreeBSD host itself (commands
       * run through the local /bin/sh; `port`, `hostKey`, `proxy` and the dial settings are then ignored).
       * @default "ssh"
       */
      transport: z.enum(["ssh", "local"]).default("ssh"),
      /** Hostname or address of the FreeBSD host. */
      host: z.string().min(1, "must not be empty"),
      /**
       * SSH port.
       * @default 22
       */
      port: z.number().int().min(1).max(65535).default(22),
      /**
       * Login user. When it is not root, commands run as root through `become`.
       * @default "root"
       */
      user: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/, "must be a user name such as admin").default("root"),
      /**
       * The host's pinned key: an OpenSSH public key line (`ssh-ed25519 AAAA…`, as in known_hosts or
       * `/etc/ssh/ssh_host_ed25519_key.pub`) or its fingerprint as `ssh-keygen -lf` prints it (`SHA256:…`).
       * A host that presents any other key is refused. Required for the `ssh` transport.
       */
      hostKey: hostKeyField().optional(),
      /**
       * How commands get root: `doas` (FreeBSD's usual choice), `sudo` (run with `-n`, so it must not ask for a
       * password), or `none`. Ignored when `user` is root.
       * @default "doas"
       */
      become: z.enum(["doas", "sudo", "none"]).default("doas"),
      /**
       * Path of the SSH agent's socket.
       * @default - the SSH_AUTH_SOCK environment variable of the provider process
       */
      agentSocketPath: z.string().min(1).optional(),
      /** A jump host to connect through (its key is pinned too; same credentials). */
      proxy: z
        .object({
          /** Hostname or address of the jump host. */
          host: z.string().min(1, "must not be empty"),
          /**
           * SSH port of the jump host.
           * @default 22
           */
          port: z.number().int().min(1).max(65535).default(22),
          /**
           * Login user on the jump host.
           * @default "root"
           */
          user: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/, "must be a user name such as admin").default("root"),
          /** The jump host's pinned key, in the same forms as `hostKey`. */
          hostKey: hostKeyField(),
          /**
           * Path of the SSH agent's socket for the jump host.
           * @default - the target's agentSocketPath, else SSH_AUTH_SOCK
           */
          agentSocketPath: z.string().min(1).optional(),
        })
        .optional(),
      /**
       * How many failed dials (refused, unreachable, timed out) are tolerated before giving up; -1 means no limit.
       * Authentication and host-key failures are never retried.
       * @default 10
       */
      dialErrorLimit: z.number().int().min(-1).default(10),
      /**
       * Seconds one dial (TCP connect plus SSH handshake) may take; 0 means no limit.
       * @default 15
       */
      perDialTimeout: z.number().int().min(0).default(15),
      /**
       * Seconds one command may run before it is abandoned and reported as timed out.
       * @default - no limit
       */
      commandTimeoutSeconds: z.number().int().positive().optional(),
    })
    .superRefine((c, ctx) => {
      if (c.transport === "ssh" && c.hostKey === undefined) {
        ctx.addIssue({ code: "custom", path: ["hostKey"], message: "is required: pin the host's key (ssh-keyscan, or /etc/ssh/ssh_host_ed25519_key.pub on the host)" });
      }
    });
}

/** Connection settings as provider methods receive them (defaults filled). */
export type ConnectionInputs = z.output<ReturnType<typeof connectionSchema>>;
type ConnectionShape = z.input<ReturnType<typeof connectionSchema>>;
/**
 * Connection settings as programs write them; every field may be an Output. `proxy` is a plain object of inputs, as in @pulumi/command's `remote.ConnectionArgs`, so a value typed as ours also
 * types as theirs (the whole connection may still be an Output).
 */
export type ConnectionArgs = Omit<PulumiInputs<ConnectionShape>, "proxy"> & {
  proxy?: PulumiInputs<NonNullable<ConnectionShape["proxy"]>>;
};

/** How messages name the target: `admin@127.0.0.2:40123`, or `local` for the local transport. */
export function describeTarget(c: Pick<ConnectionInputs, "host" | "user" | "port"> & { transport?: string }): string {
  if (c.transport === "local") return "local";
  return `${c.user}@${c.host}:${c.port}`;
}

/** A pinned host key, parsed. */
export type PinnedHostKey = { kind: "key"; type: string; blob: Buffer; fingerprint: string } | { kind: "fingerprint"; fingerprint: string };

/** OpenSSH's fingerprint of a key blob: `SHA256:` plus unpadded base64 of its SHA-256. */
export function fingerprintOf(blob: Buffer): string {
  // Reached at run time in the provider process; never captured as a module object.
  const { createHash } = require("crypto") as typeof import("crypto");
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Parse a `hostKey` value (public key line or `SHA256:` fingerprint). Throws on anything else. */
export function parseHostKey(hostKey: string): PinnedHostKey {
  const v = hostKey.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(v)) return { kind: "fingerprint", fingerprint: v.replace(/=$/, "") };
  const m = hostKeyPattern().exec(v);
  if (m === null) throw new Error(`hostKey ${JSON.stringify(hostKey)} is neither an OpenSSH public key line nor a SHA256: fingerprint`);
  const blob = Buffer.from(m[2]!, "base64");
  return { kind: "key", type: m[1]!, blob, fingerprint: fingerprintOf(blob) };
}

/** True when the key blob the host presented is the pinned one (by blob, which includes the key type). */
export function hostKeyMatches(pinned: PinnedHostKey, presented: Buffer): boolean {
  if (pinned.kind === "key") return pinned.blob.equals(presented);
  return fingerprintOf(presented) === pinned.fingerprint;
}
