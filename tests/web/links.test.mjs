import assert from "node:assert/strict";
import { test } from "node:test";

import { safeHref, splitLinks } from "../../web/js/links.js";

const joined = (parts) => parts.map((p) => p.text).join("");
const links = (text) => splitLinks(text).filter((p) => p.type === "link");

test("plain text stays one text part", () => {
  assert.deepEqual(splitLinks("hello there"), [{ type: "text", text: "hello there" }]);
  assert.deepEqual(splitLinks(""), []);
});

test("http and https links are found inside text", () => {
  const parts = splitLinks("see https://example.com/a?b=1#c and http://x.org.");
  assert.deepEqual(parts, [
    { type: "text", text: "see " },
    { type: "link", text: "https://example.com/a?b=1#c", href: "https://example.com/a?b=1#c" },
    { type: "text", text: " and " },
    { type: "link", text: "http://x.org", href: "http://x.org/" },
    { type: "text", text: "." },
  ]);
});

test("other schemes never become links", () => {
  for (const bad of [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.com/",
    "//example.com/x",
    "java\tscript:alert(1)",
  ]) {
    assert.deepEqual(links(bad), [], bad);
    assert.equal(joined(splitLinks(bad)), bad);
  }
  assert.equal(safeHref("javascript:alert(1)"), null);
  assert.equal(safeHref("http://"), null);
});

test("markup stays text and text round-trips exactly", () => {
  for (const text of [
    '<img src=x onerror=alert(1)>',
    "<script>alert(1)</script>",
    'https://a.example/"><img src=x onerror=alert(1)>',
    "a https://b.example/x'onmouseover='alert(1) c",
    "(https://en.wikipedia.org/wiki/Foo_(bar)) end",
    "emoji 😀 https://e.example/😀 ok",
  ]) {
    assert.equal(joined(splitLinks(text)), text, text);
  }
  const [link] = links('https://a.example/"><img src=x>');
  assert.equal(link.text, "https://a.example/");
});

test("balanced parentheses stay in the link, sentence punctuation does not", () => {
  assert.equal(links("(https://en.wikipedia.org/wiki/Foo_(bar))")[0].text, "https://en.wikipedia.org/wiki/Foo_(bar)");
  assert.equal(links("go to https://x.example/path, now!")[0].text, "https://x.example/path");
  assert.equal(links("https://x.example/?q=1)")[0].text, "https://x.example/?q=1");
});

test("every href is http or https", () => {
  const text = "x https://ok.example y http://ok2.example javascript:evil https://ok3.example/a";
  for (const l of links(text)) assert.match(l.href, /^https?:\/\//);
  assert.equal(links(text).length, 3);
});
