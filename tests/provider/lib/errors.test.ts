import { partialFailure, problem, tail } from "../../../provider/lib/errors";
import { RemoteCommandError } from "../../../provider/lib/exec";
import { adoptionRefused, describeDifferences } from "../../../provider/lib/adopt";

const result = {
  command: "zfs create -p 'zroot/jails/web'",
  exitCode: 1,
  stdout: "",
  stderr: "cannot create 'zroot/jails/web': parent does not exist\n",
  target: "root@192.0.2.10:22",
};

describe("errors", () => {
  it("problem: <doing> <thing> (<id>): <cause>, then the command and the stderr tail", () => {
    const e = problem("creating", "ZFS dataset", "zroot/jails/web", new RemoteCommandError(result));
    expect(e.message).toBe([
      "creating ZFS dataset (zroot/jails/web): command failed with exit code 1 on root@192.0.2.10:22",
      "  $ zfs create -p 'zroot/jails/web'",
      "  cannot create 'zroot/jails/web': parent does not exist",
    ].join("\n"));
    expect(e.cause).toBeInstanceOf(RemoteCommandError);
  });

  it("problem: stderr before stdout; plain causes as their message", () => {
    const e = problem("reading", "jail.conf file", "/etc/jail.conf.d/web.conf",
      new RemoteCommandError({ ...result, stdout: "out\n", stderr: "err\n" }));
    expect(e.message.split("\n").slice(2)).toEqual(["  err", "  out"]);
    expect(problem("deleting", "ZFS dataset", "z", new Error("connecting to root@h:22: connection refused")).message)
      .toBe("deleting ZFS dataset (z): connecting to root@h:22: connection refused");
    expect(problem("deleting", "ZFS dataset", "z", "gone").message).toBe("deleting ZFS dataset (z): gone");
  });

  it("RemoteCommandError: standalone and STYLE.md (doing, thing, result) forms", () => {
    expect(new RemoteCommandError(result).message).toBe([
      "command failed with exit code 1 on root@192.0.2.10:22",
      "  $ zfs create -p 'zroot/jails/web'",
      "  cannot create 'zroot/jails/web': parent does not exist",
    ].join("\n"));
    const styled = new RemoteCommandError("reading", "ZFS dataset (zroot/a)", result);
    expect(styled.message.split("\n")[0]).toBe("reading ZFS dataset (zroot/a): command failed with exit code 1 on root@192.0.2.10:22");
    expect(problem("x", "y", "z", styled).message.split("\n")[0]).toBe("x y (z): command failed with exit code 1 on root@192.0.2.10:22");
  });

  it("tail: keeps the last 40 lines with a marker", () => {
    const text = Array.from({ length: 45 }, (_, i) => `line ${i + 1}`).join("\n") + "\n\n";
    const t = tail(text);
    expect(t).toHaveLength(41);
    expect(t[0]).toBe("… 5 earlier lines omitted");
    expect(t[1]).toBe("line 6");
    expect(t[40]).toBe("line 45");
    expect(tail("  \n")).toEqual([]);
  });

  it("partialFailure: carries id and properties for the engine", () => {
    const cause = problem("creating", "ZFS dataset", "z", new Error("zfs get cannot see it yet"));
    const e = partialFailure("z", { name: "z" }, cause);
    expect(e).toMatchObject({ id: "z", properties: { name: "z" }, reasons: [cause.message], message: cause.message });
    expect(e.cause).toBe(cause);
  });
});

describe("adopt", () => {
  it("describeDifferences: one line per differing key, nested as dotted keys", () => {
    expect(describeDifferences(
      { name: "zroot/a", properties: { compression: "lz4", quota: "10G" }, ports: [1, 2] },
      { name: "zroot/a", properties: { compression: "off", atime: "on" }, ports: [1, 2], extra: 1 },
    )).toEqual([
      "properties.compression: want \"lz4\", host has \"off\"",
      "properties.quota: want \"10G\", host has nothing",
    ]);
    expect(describeDifferences({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it("adoptionRefused: names the flag and lists the differences", () => {
    expect(adoptionRefused("ZFS dataset", "zroot/a", ["compression: want \"lz4\", host has \"off\""]).message).toBe(
      "creating ZFS dataset (zroot/a): it already exists and differs from the inputs; set takeOver to take it over\n"
      + "  compression: want \"lz4\", host has \"off\"",
    );
  });
});
