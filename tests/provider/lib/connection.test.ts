import { execFileSync } from "child_process";
import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { utils } from "ssh2";
import { connectionSchema, describeTarget, fingerprintOf, hostKeyMatches, parseHostKey } from "../../../provider/lib/connection";

describe("connection", () => {
  it("connectionSchema: fills the documented defaults", () => {
    expect(connectionSchema().parse({ host: "192.0.2.10", hostKey: "SHA256:" + "B".repeat(43) })).toEqual({
      transport: "ssh", host: "192.0.2.10", port: 22, user: "root", hostKey: "SHA256:" + "B".repeat(43), become: "doas",
      dialErrorLimit: 10, perDialTimeout: 15,
    });
  });

  it("fails connectionSchema on a hostKey that is neither a key line nor a fingerprint", () => {
    const r = connectionSchema().safeParse({ host: "h", hostKey: "MD5:aa:bb" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["hostKey"]);
  });

  it("describeTarget: user@host:port, or local", () => {
    expect(describeTarget({ host: "127.0.0.2", port: 40123, user: "admin" })).toBe("admin@127.0.0.2:40123");
    expect(describeTarget({ host: "h", port: 22, user: "root", transport: "local" })).toBe("local");
  });

  it("fingerprintOf: matches ssh-keygen -lf", () => {
    const pair = utils.generateKeyPairSync("ed25519", { comment: "test" });
    const file = join(mkdtempSync(join(tmpdir(), "enjailed-fp-")), "k.pub");
    writeFileSync(file, pair.public + "\n");
    let keygen: string;
    try {
      keygen = execFileSync("ssh-keygen", ["-lf", file], { encoding: "utf8" }).split(" ")[1]!;
    } catch {
      throw new Error("ssh-keygen is needed for this test (Debian package openssh-client)");
    }
    const pinned = parseHostKey(pair.public);
    expect(pinned.kind === "key" && pinned.fingerprint).toBe(keygen);
    const parsed = utils.parseKey(pair.public);
    if (parsed instanceof Error) throw parsed;
    expect(fingerprintOf(parsed.getPublicSSH())).toBe(keygen);
  });

  it("hostKeyMatches: by blob for key lines (known_hosts prefix and comment allowed), by fingerprint otherwise", () => {
    const a = utils.generateKeyPairSync("ed25519");
    const b = utils.generateKeyPairSync("ed25519");
    const blobA = (utils.parseKey(a.public) as { getPublicSSH(): Buffer }).getPublicSSH();
    expect(hostKeyMatches(parseHostKey(`[127.0.0.2]:40123 ${a.public} root@host`), blobA)).toBe(true);
    expect(hostKeyMatches(parseHostKey(b.public), blobA)).toBe(false);
    expect(hostKeyMatches(parseHostKey(fingerprintOf(blobA)), blobA)).toBe(true);
    expect(hostKeyMatches(parseHostKey(fingerprintOf(blobA) + "="), blobA)).toBe(true);
  });
});
