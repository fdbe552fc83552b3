import { strict as assert } from "assert";
import { test } from "node:test";

import { countFindings, findingsText, ServerState, statusView } from "../src/status";

const template = { relevant: true, analysed: true, findings: 3 };
const otherYaml = { relevant: true, analysed: false, findings: 0 };
const markdown = { relevant: false, analysed: false, findings: 0 };

test("a template shows its finding count while the server runs", () => {
  const v = statusView("running", template);
  assert.equal(v.visible, true);
  assert.equal(v.text, "$(shield) soc2ls: 3");
  assert.ok(v.tooltip.startsWith("3 SOC 2 findings"), v.tooltip);
  assert.equal(statusView("running", { ...template, findings: 0 }).text, "$(pass) soc2ls");
});

test("YAML that is not CloudFormation shows nothing while the server works", () => {
  for (const s of ["running", "starting"] as ServerState[]) {
    assert.equal(statusView(s, otherYaml).visible, false, s);
  }
});

test("a missing or stopped server is shown on YAML and JSON, never elsewhere", () => {
  assert.match(statusView("missing", otherYaml).text, /not installed/);
  assert.match(statusView("stopped", template).text, /stopped/);
  for (const s of ["running", "starting", "stopped", "missing"] as ServerState[]) {
    assert.equal(statusView(s, markdown).visible, false, s);
    assert.equal(statusView(s, undefined).visible, false, s);
  }
});

test("starting is shown on a known template", () => {
  assert.match(statusView("starting", template).text, /sync~spin/);
});

test("findings are counted by source", () => {
  assert.equal(countFindings([{ source: "soc2ls" }, { source: "yaml" }, {}, { source: "soc2ls" }]), 2);
  assert.equal(findingsText(1), "1 SOC 2 finding");
  assert.equal(findingsText(0), "No SOC 2 findings");
});
