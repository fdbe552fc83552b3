// The "explain a rule or criterion" command's logic, apart from VS Code
// (test/explain.test.ts).

import { execFile } from "child_process";

/** A diagnostic as far as explain cares. */
export interface DiagnosticLike {
  source?: string;
  message: string;
  code?: string | number | { value: string | number };
  /** languageclient keeps the server's data field here: {criteria: [...]}. */
  data?: unknown;
}

const CRITERIA_SUFFIX = /\(((?:[A-Z]{1,2}\d+\.\d+)(?:,\s*[A-Z]{1,2}\d+\.\d+)*)\)\s*$/;

/**
 * explainChoices lists the rule ids and then the criteria of the soc2ls
 * diagnostics, each once, rules in order of first appearance and criteria
 * sorted. Criteria come from the diagnostic's data when the server sent it,
 * else from the "(CC6.1, CC8.1)" the server appends to the message.
 */
export function explainChoices(diags: ReadonlyArray<DiagnosticLike>): { rules: string[]; criteria: string[] } {
  const rules: string[] = [];
  const criteria = new Set<string>();
  for (const d of diags) {
    if (d.source !== "soc2ls") continue;
    const code = typeof d.code === "object" && d.code !== null ? d.code.value : d.code;
    if (code !== undefined && !rules.includes(String(code))) {
      rules.push(String(code));
    }
    const fromData = (d.data as { criteria?: unknown } | undefined)?.criteria;
    if (Array.isArray(fromData)) {
      for (const c of fromData) if (typeof c === "string") criteria.add(c);
      continue;
    }
    const m = CRITERIA_SUFFIX.exec(d.message);
    if (m) {
      for (const c of m[1].split(",")) criteria.add(c.trim());
    }
  }
  return { rules, criteria: [...criteria].sort(compareCriteria) };
}

/**
 * validateQuery is the input box's check of a typed id: undefined when it
 * can be passed to `soc2ls explain`, else why not. It only refuses what
 * cannot be an id; whether the id exists is for soc2ls to say (it suggests
 * the nearest one).
 */
export function validateQuery(s: string): string | undefined {
  const t = s.trim();
  if (t === "") return "Type a rule id (SOC2-CT-001) or a criterion (CC6.1).";
  if (/\s/.test(t)) return "One rule id or criterion, without spaces.";
  if (t.startsWith("-")) return "A rule id or criterion does not start with '-'.";
  return undefined;
}

/** The result of running `soc2ls explain`. */
export interface ExplainResult {
  ok: boolean;
  /** The explanation, or soc2ls's error message. */
  text: string;
}

/** The signature of child_process.execFile that runExplain uses; tests pass a fake. */
export type ExecFile = (
  file: string,
  args: string[],
  options: { timeout: number; maxBuffer: number },
  callback: (error: (Error & { code?: unknown }) | null, stdout: string, stderr: string) => void,
) => void;

/**
 * runExplain runs `soc2ls explain ID` and returns its output. A non-zero
 * exit (unknown id: exit 2 with "did you mean") gives soc2ls's own message.
 */
export function runExplain(binary: string, id: string, exec: ExecFile = execFile as unknown as ExecFile): Promise<ExplainResult> {
  return new Promise((resolve) => {
    exec(binary, ["explain", id.trim()], { timeout: 30000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const msg = String(stderr ?? "").trim() || err.message;
        resolve({ ok: false, text: msg });
        return;
      }
      resolve({ ok: true, text: String(stdout) });
    });
  });
}

/**
 * explainDocument is the markdown shown for an explanation. A criterion's
 * explanation is markdown already (it starts with its "### CC6.1" heading).
 * A rule's is "ID: title", a blank line, an aligned "Severity: / Checks: /
 * Criteria: / Docs:" block, a blank line, then markdown; the title becomes a
 * heading and the block is kept as it is, in a text fence.
 */
export function explainDocument(text: string): string {
  const body = text.replace(/\r\n/g, "\n").replace(/\s+$/, "");
  if (/^#/.test(body)) return body + "\n";
  const lines = body.split("\n");
  const title = lines.shift() ?? "";
  while (lines.length > 0 && lines[0].trim() === "") lines.shift();
  const blank = lines.findIndex((l) => l.trim() === "");
  const block = blank < 0 ? lines : lines.slice(0, blank);
  const rest = blank < 0 ? [] : lines.slice(blank + 1);
  let md = `# ${title}\n\n`;
  if (block.length > 0) md += "```text\n" + block.join("\n") + "\n```\n\n";
  if (rest.length > 0) md += rest.join("\n") + "\n";
  return md.replace(/\n+$/, "\n");
}

function compareCriteria(a: string, b: string): number {
  const pa = /^([A-Z]+)(\d+)\.(\d+)$/i.exec(a);
  const pb = /^([A-Z]+)(\d+)\.(\d+)$/i.exec(b);
  if (!pa || !pb) return a.localeCompare(b);
  return pa[1].localeCompare(pb[1]) || Number(pa[2]) - Number(pb[2]) || Number(pa[3]) - Number(pb[3]);
}
