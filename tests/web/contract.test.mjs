// tests/contract/cases.json, the shared table of good and bad message fields, against the
// page's own checks (web/js/validation.js). The page checks the room, and the name and
// text as it will send them; seq it numbers itself.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { isValidRoom, validateName, validateText } from "../../web/js/validation.js";

const table = JSON.parse(readFileSync(new URL("../contract/cases.json", import.meta.url), "utf8"));

function valueOf(c) {
  if (c.absent) return undefined;
  if (c.repeat) return (c.repeat.prefix ?? "") + c.repeat.unit.repeat(c.repeat.times) + (c.repeat.suffix ?? "");
  return c.value;
}

const checks = {
  room: (v) => isValidRoom(v),
  name: (v) => validateName(v).ok,
  text: (v) => validateText(v).ok,
};

for (const [field, check] of Object.entries(checks)) {
  test(`the shared table: ${field}`, () => {
    const strings = table.fields[field].filter((c) => typeof valueOf(c) === "string");
    assert.ok(strings.length > 5);
    for (const c of strings) {
      assert.equal(check(valueOf(c)), c.ok, `${field} ${JSON.stringify(valueOf(c)).slice(0, 60)} ${c.why ?? ""}`);
    }
  });
}
