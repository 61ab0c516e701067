// Test-side helper: a `fetch` (typed as the global one, as the AI SDK providers expect) that goes
// through a given undici dispatcher, e.g. `new Agent({ allowH2: true, connect: { ca: fake.ca } })`.

import {
  type Dispatcher,
  type RequestInit as UndiciRequestInit,
  fetch as undiciFetch,
} from "undici";

export function fetchWith(dispatcher: Dispatcher): typeof globalThis.fetch {
  return async (input, init) => {
    const url = typeof input === "string" || input instanceof URL ? input : input.url;
    const response = await undiciFetch(url, { ...(init as UndiciRequestInit), dispatcher });
    return response as unknown as Response;
  };
}
