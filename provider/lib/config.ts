/**
 * Provider-process settings that must not enter state: where the SSH private key is.
 *
 * Every dynamic provider's `configure` calls {@link configureFrom}. The values live on `globalThis` under
 * `Symbol.for("enjailed.config")`, so all resource types' separately serialized providers see them. They are stored
 * synchronously, before any `await`: the dynamic-provider host can start another RPC before `configure` finishes
 * (pulumi.md A3).
 *
 * Stack config keys (read with their full names):
 * - `enjailed:sshKeyFile`: path of the private key file on the machine running Pulumi.
 * - `enjailed:sshKeyPassphrase`: its passphrase, if it has one (set it with `pulumi config set --secret`).
 */

/** What the provider process knows about credentials. */
export interface ProviderSettings {
  sshKeyFile?: string;
  sshKeyPassphrase?: string;
}

/** The settings object shared by every provider in this process. */
export function providerSettings(): ProviderSettings {
  const g = globalThis as unknown as Record<symbol, ProviderSettings | undefined>;
  const key = Symbol.for("enjailed.config");
  let s = g[key];
  if (s === undefined) {
    s = {};
    g[key] = s;
  }
  return s;
}

/** Store `enjailed:*` settings from the provider's `configure` request. Synchronous on purpose. */
export function configureFrom(req: { config: { get(key: string): string | undefined } }): void {
  const s = providerSettings();
  const keyFile = req.config.get("enjailed:sshKeyFile");
  const passphrase = req.config.get("enjailed:sshKeyPassphrase");
  if (keyFile !== undefined && keyFile !== "") s.sshKeyFile = keyFile;
  if (passphrase !== undefined && passphrase !== "") s.sshKeyPassphrase = passphrase;
}

/** Where credentials come from, in order: config key file, `ENJAILED_SSH_KEY_FILE`, then the agent. */
export interface CredentialSources {
  keyFile?: string;
  passphrase?: string;
  agent?: string;
}

/** Resolve the credential sources for one connection (agent socket from the input, else SSH_AUTH_SOCK). */
export function credentialSources(agentSocketPath?: string): CredentialSources {
  const s = providerSettings();
  const env = process.env;
  const keyFile = s.sshKeyFile ?? (env.ENJAILED_SSH_KEY_FILE || undefined);
  const passphrase = s.sshKeyPassphrase ?? (env.ENJAILED_SSH_KEY_PASSPHRASE || undefined);
  const agent = agentSocketPath ?? (env.SSH_AUTH_SOCK || undefined);
  const out: CredentialSources = {};
  if (keyFile !== undefined) out.keyFile = keyFile;
  if (passphrase !== undefined) out.passphrase = passphrase;
  if (agent !== undefined) out.agent = agent;
  return out;
}
