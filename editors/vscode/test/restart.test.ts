import { strict as assert } from "assert";
import { test } from "node:test";

import { RestartBudget } from "../src/restart";

test("three crashes are restarted, the fourth in the window is not", () => {
  let now = 0;
  const b = new RestartBudget(3, 1000, () => now);
  assert.deepEqual([b.crashed(), b.crashed(), b.crashed(), b.crashed()], [true, true, true, false]);
  assert.equal(b.crashed(), false, "still within the window");
});

test("crashes older than the window are forgotten", () => {
  let now = 0;
  const b = new RestartBudget(2, 1000, () => now);
  b.crashed();
  now = 500;
  b.crashed();
  now = 1200; // the first crash is now outside the window
  assert.equal(b.crashed(), true);
  assert.equal(b.crashed(), false);
});

test("reset, as by Restart Server, starts afresh", () => {
  const b = new RestartBudget(1, 1000, () => 0);
  b.crashed();
  assert.equal(b.crashed(), false);
  b.reset();
  assert.equal(b.crashed(), true);
});
