// `npm run bench:web`: the Chromium measurements of a long, fast stream and of a 500-message chat. Kept out of `npm test`
// (vitest.config.ts), since its figures are wall-clock thresholds a busy machine can miss.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

export default defineConfig({
  test: {
    ...base.test,
    include: ["test/e2e/web/performance.bench.ts", "test/e2e/web/long-chat.bench.ts"],
  },
});
