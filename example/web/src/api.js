// Calls to the gateway. Relative URLs: in prod webserve and in dev the Vite
// server forward /api to the gateway, so the page never needs its address.

/** GET a JSON document; throws with the server's error text on failure. */
export async function getJSON(path, fetchImpl = fetch) {
  const response = await fetchImpl(path, { headers: { Accept: "application/json" } });
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new Error(`${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const reason = body && body.error ? body.error : `HTTP ${response.status}`;
    throw new Error(`${path}: ${reason}`);
  }
  return body;
}

/** Formats integer cents as a price, e.g. 1999 -> "19.99". */
export function formatPrice(cents) {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}
