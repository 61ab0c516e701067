/**
 * A run that ends in error before or outside a turn (the chat's model cannot run, an internal
 * error): as a turn's own failure does, the error stays in the transcript where it happened
 * (`chatloop/notes.ts`), then the one `error` event is published. `last_error` is the release's.
 */
import { publicMessage } from "../chatloop/events.ts";
import { errorNote } from "../chatloop/notes.ts";
import type { SerialPublisher } from "../chatloop/publish.ts";
import type { Store } from "../store/contract.ts";
import type { ChatErrorRecord } from "../store/types.ts";

export async function recordFailure(
  store: Pick<Store, "saveMessage">,
  publisher: SerialPublisher,
  chatId: string,
  error: ChatErrorRecord,
): Promise<void> {
  try {
    const note = await store.saveMessage(chatId, errorNote(error));
    void publisher.publish("message", { message: publicMessage(note) });
  } catch {
    // The database may be what failed: the `error` event and `last_error` still say it.
  }
  void publisher.publish("error", {
    kind: error.kind,
    message: error.message,
    ...(error.status_code !== undefined ? { status_code: error.status_code } : {}),
  });
}
