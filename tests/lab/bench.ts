// Lab start-up benchmark (issue #3 asks for under 5 s once packages are installed). Not a test: it prints figures.
//   npm run build && node dist/tests/lab/bench.js [runs=5]
// The first run includes building the sim (cached by source hash afterwards); it is reported separately.

import { startLab } from "./lab";

function ms(from: bigint): number {
  return Number(process.hrtime.bigint() - from) / 1e6;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? "5");
  const starts: number[] = [];
  const firstCommands: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i <= runs; i++) {
    let t = process.hrtime.bigint();
    const lab = await startLab();
    const start = ms(t);
    t = process.hrtime.bigint();
    const r = await lab.ssh("doas zfs list -H -o name zroot");
    const first = ms(t);
    if (r.code !== 0) throw new Error(`benchmark: first command failed: ${r.stderr}`);
    t = process.hrtime.bigint();
    await lab.stop();
    const stop = ms(t);
    if (i === 0) {
      console.log(`warm-up (includes the sim build check): start ${start.toFixed(0)} ms`);
      continue;
    }
    starts.push(start);
    firstCommands.push(first);
    stops.push(stop);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const fmt = (xs: number[]): string => `median ${median(xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
  console.log(`lab start (keys, layers, namespace, sim install+init, sshd listening), ${runs} runs: ${fmt(starts)}`);
  console.log(`first command over ssh (connect + doas zfs list): ${fmt(firstCommands)}`);
  console.log(`lab stop: ${fmt(stops)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
