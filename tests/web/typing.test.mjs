// The typing line's wording.
import assert from "node:assert/strict";
import { test } from "node:test";

import { typingText } from "../../web/js/view.js";

test("typing line names one or two people and counts more", () => {
  assert.equal(typingText([]), "");
  assert.equal(typingText(["Alice"]), "Alice is typing…");
  assert.equal(typingText(["Alice", "Bob"]), "Alice and Bob are typing…");
  assert.equal(typingText(["A", "B", "C"]), "3 people are typing…");
});
