// Finding the soc2ls binary. Pure: the file system, the environment and the
// platform are passed in, so every branch is tested without touching the
// machine (test/discovery.test.ts).

import * as fs from "fs";
import * as path from "path";

/** The command that installs soc2ls, shown when the binary is missing. */
export const INSTALL_COMMAND = "go install github.com/soc2ls/soc2ls/cmd/soc2ls@latest";

/** What discovery may look at. */
export interface DiscoveryInput {
  /** The soc2ls.path setting; empty or blank means "search". */
  configured?: string;
  /** The process environment (PATH, GOPATH, PATHEXT). */
  env: Record<string, string | undefined>;
  /** process.platform: decides the path syntax and the executable suffix. */
  platform: string;
  /** The user's home directory, for ~ and ~/go/bin. */
  homedir: string;
  /** The first workspace folder, against which a relative soc2ls.path is resolved. */
  workspaceFolder?: string;
  /** Whether p is an executable regular file. */
  isExecutable(p: string): boolean;
}

/** Where a found binary came from. */
export type Source = "setting" | "PATH" | "GOPATH" | "home";

/** The outcome of discovery. */
export type Discovery =
  | { kind: "found"; path: string; source: Source }
  | {
      kind: "missing";
      /** Every candidate that was tried, in order. */
      searched: string[];
      /** Set when soc2ls.path names a file that is not there: no fallback then. */
      configured?: string;
    };

/**
 * findBinary returns the soc2ls binary to run: soc2ls.path when set, else
 * soc2ls on PATH, else $GOPATH/bin (each GOPATH entry), else ~/go/bin, which
 * is where `go install` puts it when GOPATH is unset. An explicit soc2ls.path
 * that does not exist is reported as missing rather than silently replaced by
 * another binary: the user asked for that one.
 */
export function findBinary(input: DiscoveryInput): Discovery {
  const p = input.platform === "win32" ? path.win32 : path.posix;
  const configured = (input.configured ?? "").trim();
  if (configured !== "") {
    let full = expandHome(configured, input.homedir, p);
    if (input.workspaceFolder) {
      full = full.split("${workspaceFolder}").join(input.workspaceFolder);
    }
    if (!p.isAbsolute(full) && input.workspaceFolder) {
      full = p.resolve(input.workspaceFolder, full);
    }
    const tried = withSuffixes(full, input, p);
    for (const c of tried) {
      if (input.isExecutable(c)) {
        return { kind: "found", path: c, source: "setting" };
      }
    }
    return { kind: "missing", searched: tried, configured };
  }

  const searched: string[] = [];
  const tryDir = (dir: string, source: Source): Discovery | undefined => {
    if (dir === "") {
      return undefined;
    }
    for (const c of withSuffixes(p.join(dir, "soc2ls"), input, p)) {
      if (searched.includes(c)) {
        continue;
      }
      searched.push(c);
      if (input.isExecutable(c)) {
        return { kind: "found", path: c, source };
      }
    }
    return undefined;
  };

  const sep = input.platform === "win32" ? ";" : ":";
  for (const dir of splitList(envGet(input, "PATH"), sep)) {
    // Only absolute PATH entries: a relative one would resolve against
    // VS Code's own working directory, which is no place to run a binary from.
    if (p.isAbsolute(dir)) {
      const r = tryDir(dir, "PATH");
      if (r) return r;
    }
  }
  for (const dir of splitList(envGet(input, "GOPATH"), sep)) {
    const r = tryDir(p.join(expandHome(dir, input.homedir, p), "bin"), "GOPATH");
    if (r) return r;
  }
  if (input.homedir !== "") {
    const r = tryDir(p.join(input.homedir, "go", "bin"), "home");
    if (r) return r;
  }
  return { kind: "missing", searched };
}

/** missingMessage is the one notification shown when no binary is found. */
export function missingMessage(d: Extract<Discovery, { kind: "missing" }>): string {
  if (d.configured !== undefined) {
    return `soc2ls: the binary set in soc2ls.path (${d.configured}) was not found or is not executable. ` +
      `Fix the setting, or clear it to search PATH and ~/go/bin. To install soc2ls: ${INSTALL_COMMAND}`;
  }
  return `soc2ls: the soc2ls binary was not found on PATH, in $GOPATH/bin or in ~/go/bin. ` +
    `Install it with: ${INSTALL_COMMAND} (or set soc2ls.path).`;
}

function envGet(input: DiscoveryInput, name: string): string {
  // Windows environment names are case-insensitive (Path, PATH).
  if (input.platform === "win32") {
    for (const k of Object.keys(input.env)) {
      if (k.toUpperCase() === name) {
        return input.env[k] ?? "";
      }
    }
    return "";
  }
  return input.env[name] ?? "";
}

function splitList(s: string, sep: string): string[] {
  return s.split(sep).map((x) => x.trim().replace(/^"(.*)"$/, "$1")).filter((x) => x !== "");
}

function expandHome(s: string, home: string, p: path.PlatformPath): string {
  if (home === "") {
    return s;
  }
  if (s === "~") {
    return home;
  }
  if (s.startsWith("~/") || (p === path.win32 && s.startsWith("~\\"))) {
    return p.join(home, s.slice(2));
  }
  return s.split("${userHome}").join(home);
}

// withSuffixes gives the names to try for a binary: on Windows the name
// itself when it already has an extension, else each PATHEXT suffix (.EXE
// first by default).
function withSuffixes(file: string, input: DiscoveryInput, p: path.PlatformPath): string[] {
  if (input.platform !== "win32") {
    return [file];
  }
  if (p.extname(file) !== "") {
    return [file];
  }
  const exts = splitList(envGet(input, "PATHEXT") || ".EXE;.CMD;.BAT;.COM", ";");
  return exts.map((e) => file + e.toLowerCase());
}

/**
 * isExecutableFile is DiscoveryInput.isExecutable on the real file system: a
 * regular file (symbolic links followed) that this user may execute. On
 * Windows, where there is no execute bit, any regular file.
 */
export function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    if (process.platform !== "win32") fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
