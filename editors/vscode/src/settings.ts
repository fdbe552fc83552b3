// Mapping the extension's settings to what `soc2ls serve` accepts. Pure, so
// the one mapping serves initializationOptions, the settings pushed with
// workspace/didChangeConfiguration and the replies to workspace/configuration,
// and is tested alone (test/settings.test.ts).
//
// The server's shape is lsp/config.go's `settings`: diagnosticsDelayMs
// (number), rules (rule id -> "off" | "on" | severity | {severity} |
// {enabled} | boolean) and logLevel (string). The server decodes the whole
// object at once, so a value of the wrong JSON type would make it reject
// every setting; such values are dropped here and reported instead.

/** The settings of the `soc2ls` section as the extension reads them. */
export interface ExtensionSettings {
  path?: unknown;
  diagnosticsDelayMs?: unknown;
  rules?: unknown;
  logLevel?: unknown;
}

/** One rule's setting as the server accepts it. */
export type RuleValue = string | boolean | { severity?: string; enabled?: boolean };

/** What the server is sent. */
export interface ServerSettings {
  diagnosticsDelayMs?: number;
  rules: Record<string, RuleValue>;
  logLevel?: string;
}

/** The result of mapping: the settings to send and what was dropped, for the user. */
export interface Mapped {
  settings: ServerSettings;
  problems: string[];
}

/** The log levels the server knows (zap's names). */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** The severities a rule can be given. */
export const SEVERITIES = ["error", "warning", "info", "hint"] as const;

/**
 * toServerSettings maps the soc2ls section to the server's settings. `path`
 * and `trace.server` belong to the client and are not sent. rules is always
 * sent (as {} when unset) because the server replaces its rule settings as a
 * whole: removing the last rule setting must reach it.
 */
export function toServerSettings(s: ExtensionSettings | undefined): Mapped {
  const problems: string[] = [];
  const out: ServerSettings = { rules: {} };
  const src = s ?? {};

  const delay = src.diagnosticsDelayMs;
  if (delay !== undefined && delay !== null) {
    if (typeof delay === "number" && Number.isFinite(delay)) {
      // Range checks (negative, above a minute) are the server's: it
      // reports them with the same words for every client.
      out.diagnosticsDelayMs = delay;
    } else {
      problems.push(`soc2ls.diagnosticsDelayMs must be a number of milliseconds (got ${show(delay)})`);
    }
  }

  const level = src.logLevel;
  if (level !== undefined && level !== null && level !== "") {
    if (typeof level === "string") {
      out.logLevel = level;
    } else {
      problems.push(`soc2ls.logLevel must be one of ${LOG_LEVELS.join(", ")} (got ${show(level)})`);
    }
  }

  const rules = src.rules;
  if (rules !== undefined && rules !== null) {
    if (typeof rules !== "object" || Array.isArray(rules)) {
      problems.push(`soc2ls.rules must be an object of rule id to "off" or {"severity": ...} (got ${show(rules)})`);
    } else {
      for (const [id, v] of Object.entries(rules as Record<string, unknown>)) {
        const rv = ruleValue(v);
        if (rv === undefined) {
          problems.push(`soc2ls.rules.${id} must be "off", "on", a severity (${SEVERITIES.join(", ")}) or {"severity": ...} (got ${show(v)})`);
          continue;
        }
        out.rules[id] = rv;
      }
    }
  }
  return { settings: out, problems };
}

function ruleValue(v: unknown): RuleValue | undefined {
  if (typeof v === "string" || typeof v === "boolean") {
    return v;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    return undefined;
  }
  const o = v as Record<string, unknown>;
  const r: { severity?: string; enabled?: boolean } = {};
  if (o.severity !== undefined) {
    if (typeof o.severity !== "string") return undefined;
    r.severity = o.severity;
  }
  if (o.enabled !== undefined) {
    if (typeof o.enabled !== "boolean") return undefined;
    r.enabled = o.enabled;
  }
  return r;
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
