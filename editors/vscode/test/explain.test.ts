import { strict as assert } from "assert";
import { test } from "node:test";

import { ExecFile, explainChoices, explainDocument, runExplain, validateQuery } from "../src/explain";

test("rule ids in order of appearance, criteria from data or the message, once each", () => {
  const got = explainChoices([
    { source: "soc2ls", code: "SOC2-TAG-001", message: "tags production (CC8.1, CC6.1)" },
    { source: "yaml", code: "X-1", message: "not ours (CC9.9)" },
    { source: "soc2ls", code: { value: "SOC2-CT-001" }, message: "no criteria suffix", data: { criteria: ["CC7.2", "A1.2"] } },
    { source: "soc2ls", code: "SOC2-TAG-001", message: "again (CC10.1)" },
    { source: "soc2ls", message: "syntax error, no code" },
  ]);
  assert.deepEqual(got, { rules: ["SOC2-TAG-001", "SOC2-CT-001"], criteria: ["A1.2", "CC6.1", "CC7.2", "CC8.1", "CC10.1"] });
});

test("validateQuery refuses only what cannot be an id", () => {
  assert.equal(validateQuery(" cc6.1 "), undefined);
  assert.equal(validateQuery("SOC2-CT-01"), undefined, "soc2ls itself suggests the nearest id");
  assert.ok(validateQuery(""));
  assert.ok(validateQuery("two words"));
  assert.ok(validateQuery("--help"), "would be read as a flag");
});

test("runExplain passes one argument and returns soc2ls's message on failure", async () => {
  const calls: string[][] = [];
  const fake: ExecFile = (file, args, _o, cb) => {
    calls.push([file, ...args]);
    if (args[1] === "NOPE") {
      const err = Object.assign(new Error("Command failed"), { code: 2 });
      cb(err, "", 'soc2ls explain: unknown rule or criterion "NOPE"\nRun \'soc2ls rules\' for the rules.\n');
      return;
    }
    cb(null, "### CC6.1 — Logical access\n\nbody\n", "");
  };
  assert.deepEqual(await runExplain("/bin/soc2ls", " CC6.1 ", fake), { ok: true, text: "### CC6.1 — Logical access\n\nbody\n" });
  const bad = await runExplain("/bin/soc2ls", "NOPE", fake);
  assert.equal(bad.ok, false);
  assert.match(bad.text, /^soc2ls explain: unknown rule or criterion "NOPE"/);
  assert.deepEqual(calls, [["/bin/soc2ls", "explain", "CC6.1"], ["/bin/soc2ls", "explain", "NOPE"]]);

  const missing = await runExplain("/nonexistent/soc2ls", "CC6.1");
  assert.equal(missing.ok, false);
  assert.match(missing.text, /ENOENT/);
});

test("a rule's aligned header stays aligned, under its title", () => {
  const md = explainDocument("SOC2-CT-001: trail\n\nSeverity: error\nDocs:     x\n\nBody **bold**.\n");
  assert.equal(md, "# SOC2-CT-001: trail\n\n```text\nSeverity: error\nDocs:     x\n```\n\nBody **bold**.\n");
  assert.equal(explainDocument("SOC2-X-001: t\r\n\r\nSeverity: hint\r\n"), "# SOC2-X-001: t\n\n```text\nSeverity: hint\n```\n");
  assert.equal(explainDocument("### CC6.1 — x\r\n\r\ntext\r\n\r\n"), "### CC6.1 — x\n\ntext\n");
});

// With the real binary (the Go test editors/vscode_test.go builds it and
// sets SOC2LS_BIN), explain a rule and a criterion and an unknown id.
test("soc2ls explain end to end", async (t) => {
  const bin = process.env.SOC2LS_BIN;
  if (!bin) {
    t.skip("SOC2LS_BIN not set (go test ./editors sets it)");
    return;
  }
  const rule = await runExplain(bin, "soc2-ct-001");
  assert.equal(rule.ok, true, rule.text);
  const md = explainDocument(rule.text);
  assert.match(md, /^# SOC2-CT-001: /);
  assert.match(md, /```text\nSeverity: /);
  assert.match(md, /\*\*How to fix\.\*\*/);
  const crit = await runExplain(bin, "CC6.1");
  assert.equal(crit.ok, true, crit.text);
  assert.match(explainDocument(crit.text), /^### CC6\.1 — /);
  const bad = await runExplain(bin, "SOC2-CT-01");
  assert.equal(bad.ok, false);
  assert.match(bad.text, /did you mean SOC2-CT-001/);
});
