/** The fake provider and a Transport that trusts it, for a describe block's tests. */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { Transport } from "../../../src/provider/index.ts";
import {
  type FakeProvider,
  type FakeProviderOptions,
  startFakeProvider,
} from "../../fakeprovider/index.ts";

export interface FakeFixture {
  readonly fake: FakeProvider;
  readonly transport: Transport;
}

/**
 * Starts the fake once for the block (HTTP/2 over TLS unless `server` says otherwise), forgets its
 * scripts and requests before each test, and closes both at the end.
 */
export function useFakeProvider(
  server: FakeProviderOptions = { http2: true },
  client: { http2?: boolean } = {},
): FakeFixture {
  let fake: FakeProvider | undefined;
  let transport: Transport | undefined;
  beforeAll(async () => {
    fake = await startFakeProvider(server);
    transport = new Transport({ ...client, extraCaCerts: [fake.ca] });
  });
  afterAll(async () => {
    await transport?.close();
    await fake?.close();
  });
  beforeEach(() => fake?.reset());
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useFakeProvider: read inside a test");
    return value;
  };
  return {
    get fake() {
      return need(fake);
    },
    get transport() {
      return need(transport);
    },
  };
}
