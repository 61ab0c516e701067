/**
 * "Instructions in effect": what the chat's model is told before the conversation, layer by layer
 * with its source (`GET /chats/{id}/instructions`) — never silently. Collapsed by default; read
 * again each time it is opened, so it shows what the next turn will be told.
 */
import { useState } from "react";
import { api } from "../api/client.ts";
import type { InstructionLayer } from "../api/types.ts";
import { Link } from "../router.tsx";
import { ErrorBox } from "../ui/ErrorBox.tsx";

const SOURCES: Record<InstructionLayer["source"], string> = {
  keel: "Keel (built in)",
  deployment: "This deployment's administrators",
  user: "The chat owner's instructions",
  workspace: "The workspace's instruction file",
};

export function InstructionsPanel({ chatId }: { chatId: string }) {
  const [layers, setLayers] = useState<InstructionLayer[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  async function load() {
    setLoading(true);
    setError(null);
    try {
      setLayers((await api.getInstructions(chatId)).layers);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }

  return (
    <details
      className="instructions-panel"
      onToggle={(event) => {
        if (event.currentTarget.open) void load();
      }}
    >
      <summary>
        Instructions in effect
        {layers ? <span className="muted"> · {layers.length} layers</span> : null}
      </summary>
      <div className="body">
        <p className="muted instructions-note">
          What the model is told before the conversation, in this order, each its own message.
          Change yours under <Link to="/settings/instructions">Your instructions</Link>.
        </p>
        <ErrorBox error={error} />
        {loading && layers === null ? <p className="muted">Loading…</p> : null}
        {layers ? (
          <ol className="instruction-layers">
            {layers.map((layer) => (
              <li key={layer.source} data-source={layer.source}>
                <h3>
                  {SOURCES[layer.source]}
                  {layer.truncated ? <span className="badge">cut at 32 KB</span> : null}
                </h3>
                <pre>{layer.text}</pre>
              </li>
            ))}
          </ol>
        ) : null}
      </div>
    </details>
  );
}
