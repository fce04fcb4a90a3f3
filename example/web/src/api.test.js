// Unit tests for api.js with node's built-in runner: `npm test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { getJSON, formatPrice } from "./api.js";

function fakeFetch(status, text) {
  return async () => ({ ok: status >= 200 && status < 300, status, text: async () => text });
}

test("formatPrice pads cents", () => {
  assert.equal(formatPrice(1999), "19.99");
  assert.equal(formatPrice(5), "0.05");
  assert.equal(formatPrice(100), "1.00");
  assert.equal(formatPrice(-250), "-2.50");
});

test("getJSON returns the parsed body", async () => {
  const body = await getJSON("/api/items", fakeFetch(200, '[{"id":1}]'));
  assert.deepEqual(body, [{ id: 1 }]);
});

test("getJSON reports the gateway's error text", async () => {
  await assert.rejects(
    getJSON("/api/greeting", fakeFetch(502, '{"error":"greeter unreachable"}')),
    /\/api\/greeting: greeter unreachable/,
  );
});

test("getJSON reports non-JSON answers", async () => {
  await assert.rejects(getJSON("/api/items", fakeFetch(200, "<html>")), /not JSON/);
});
