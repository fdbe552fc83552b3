import { strict as assert } from "assert";
import { test } from "node:test";

import { toServerSettings } from "../src/settings";

test("the defaults map to the server's defaults, rules always sent", () => {
  const r = toServerSettings({ path: "", diagnosticsDelayMs: 30, rules: {}, logLevel: "info" });
  assert.deepEqual(r, { settings: { diagnosticsDelayMs: 30, rules: {}, logLevel: "info" }, problems: [] });
});

test("nothing set still sends empty rules, so removing the last rule setting reaches the server", () => {
  assert.deepEqual(toServerSettings(undefined), { settings: { rules: {} }, problems: [] });
  assert.deepEqual(toServerSettings({}), { settings: { rules: {} }, problems: [] });
});

test("client-only settings are not sent", () => {
  const r = toServerSettings({ path: "/x/soc2ls", ["trace" as string]: { server: "verbose" } } as never);
  assert.deepEqual(Object.keys(r.settings), ["rules"]);
});

test("every form of rule setting the server accepts passes through as written", () => {
  const rules = {
    "SOC2-TAG-001": "off",
    "SOC2-CT-001": { severity: "warning" },
    "SOC2-S3-001": false,
    "SOC2-S3-002": { enabled: false },
    "SOC2-S3-003": "hint",
  };
  const r = toServerSettings({ rules, diagnosticsDelayMs: 0, logLevel: "debug" });
  assert.deepEqual(r, { settings: { rules, diagnosticsDelayMs: 0, logLevel: "debug" }, problems: [] });
});

test("values of the wrong type are dropped and reported; the rest is sent", () => {
  const r = toServerSettings({
    diagnosticsDelayMs: "50",
    logLevel: 3,
    rules: { "SOC2-TAG-001": "off", "SOC2-CT-001": 7, "SOC2-S3-001": { severity: 1 }, "SOC2-S3-002": ["off"] },
  });
  assert.deepEqual(r.settings, { rules: { "SOC2-TAG-001": "off" } });
  assert.equal(r.problems.length, 5, r.problems.join("\n"));
  assert.ok(r.problems[0].includes("diagnosticsDelayMs") && r.problems[0].includes('"50"'), r.problems[0]);
  assert.ok(r.problems.some((p) => p.includes("soc2ls.rules.SOC2-CT-001")));
});

test("rules that are not an object are reported; NaN is not a delay", () => {
  const r = toServerSettings({ rules: ["SOC2-TAG-001"], diagnosticsDelayMs: Number.NaN });
  assert.deepEqual(r.settings, { rules: {} });
  assert.equal(r.problems.length, 2);
});

test("range and name checks are left to the server, which reports them in its own words", () => {
  const r = toServerSettings({ diagnosticsDelayMs: -5, logLevel: "loud", rules: { "NOT-A-RULE": "sometimes" } });
  assert.deepEqual(r, { settings: { diagnosticsDelayMs: -5, logLevel: "loud", rules: { "NOT-A-RULE": "sometimes" } }, problems: [] });
});
