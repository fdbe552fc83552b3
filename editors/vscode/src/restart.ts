// How often a crashed server is started again. languageclient's default
// handler restarts up to four times in three minutes and then shows its own
// message; this one is the same idea with a clock that tests control and one
// message of ours (test/restart.test.ts).

/** RestartBudget allows `max` restarts within any `windowMs`. */
export class RestartBudget {
  private crashes: number[] = [];

  constructor(
    private readonly max = 3,
    private readonly windowMs = 3 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * crashed records a crash and says whether to start the server again:
   * false once more than `max` crashes fall within the window, so a binary
   * that dies at once is not started over and over.
   */
  crashed(): boolean {
    const t = this.now();
    this.crashes = this.crashes.filter((c) => t - c < this.windowMs);
    this.crashes.push(t);
    return this.crashes.length <= this.max;
  }

  /** reset forgets past crashes: the user restarted the server by hand. */
  reset(): void {
    this.crashes = [];
  }
}
