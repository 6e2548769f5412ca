import assert from "node:assert/strict";
import { test } from "node:test";

import { Backoff, expiryMs, renewDelay, tokenStale } from "../../web/js/backoff.js";

test("delays grow exponentially up to the cap and stay within [ceiling/2, ceiling]", () => {
  for (const r of [0, 0.5, 0.999999, 1]) {
    const b = new Backoff({ base: 500, cap: 30000, random: () => r });
    let prevCeiling = 0;
    for (let i = 0; i < 40; i += 1) {
      const ceiling = b.ceiling();
      const d = b.next();
      assert.ok(ceiling >= prevCeiling, "ceiling never shrinks");
      assert.ok(d >= ceiling / 2 && d <= ceiling, `delay ${d} within [${ceiling / 2}, ${ceiling}]`);
      assert.ok(d <= 30000 && d >= 250);
      prevCeiling = ceiling;
    }
    assert.equal(b.ceiling(), 30000);
  }
});

test("jitter spreads clients apart", () => {
  const b = new Backoff({ base: 1000, cap: 30000 });
  const firsts = new Set();
  for (let i = 0; i < 50; i += 1) {
    b.reset();
    firsts.add(b.next());
  }
  assert.ok(firsts.size > 10, `only ${firsts.size} distinct first delays`);
});

test("reset goes back to the base delay", () => {
  const b = new Backoff({ base: 500, cap: 30000, random: () => 1 });
  for (let i = 0; i < 10; i += 1) b.next();
  b.reset();
  assert.equal(b.next(), 500);
  assert.equal(b.next(), 1000);
});

test("rejects nonsense settings", () => {
  assert.throws(() => new Backoff({ base: 0 }));
  assert.throws(() => new Backoff({ base: 100, cap: 50 }));
});

test("expiresAt in seconds, milliseconds or ISO", () => {
  assert.equal(expiryMs(1700000000), 1700000000000);
  assert.equal(expiryMs(1700000000000), 1700000000000);
  assert.equal(expiryMs("1700000000"), 1700000000000);
  assert.equal(expiryMs("2023-11-14T22:13:20Z"), 1700000000000);
  assert.ok(Number.isNaN(expiryMs(undefined)));
});

test("tokens renew at 80% of their lifetime", () => {
  assert.equal(renewDelay(0, 3600_000), 2880_000);
  assert.equal(renewDelay(0, 500), 1000, "never hammer the token URL");
  assert.equal(renewDelay(0, Number.NaN), null);
  assert.equal(tokenStale(0, 1000, 799), false);
  assert.equal(tokenStale(0, 1000, 800), true);
  assert.equal(tokenStale(0, Number.NaN, 1e15), false);
});
