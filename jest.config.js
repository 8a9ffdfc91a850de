// Test layers (see ../shared/STYLE.md §3.9). `npm test` runs them all, acceptance included.
//   unit        pure tests and provider tests against an in-process fake host; no engine, no lab
//   lab         the simulated FreeBSD host behind real OpenSSH (needs root or the lab's packages)
//   acceptance  the real Pulumi engine over real SSH against the lab (or ENJAILED_TEST_HOST); serial
const tsJest = { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] };
const base = { preset: undefined, testEnvironment: "node", transform: tsJest, moduleFileExtensions: ["ts", "js", "json"] };

module.exports = {
  projects: [
    { ...base, displayName: "unit", testMatch: ["<rootDir>/tests/{provider,components,docs,helpers}/**/*.test.ts"] },
    { ...base, displayName: "lab", testMatch: ["<rootDir>/tests/lab/**/*.test.ts"] },
    { ...base, displayName: "acceptance", testMatch: ["<rootDir>/tests/acceptance/**/*.acc.test.ts"] },
  ],
};
