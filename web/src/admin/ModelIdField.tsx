/**
 * The model ID field: free text, offering the models the chosen provider lists when it can list
 * them (`GET /providers/{id}/models`), asked again when the provider changes. A provider that
 * cannot list, or whose list fails, leaves plain free text and says so in the hint.
 */
import { useEffect, useId, useState } from "react";
import { api, errorMessage } from "../api/client.ts";
import type { Model, ProviderModelList } from "../api/types.ts";
import { Field } from "../ui/Field.tsx";

type ProviderModel = ProviderModelList["models"][number];

type Listing =
  | { state: "loading" }
  | { state: "listed"; models: ProviderModel[] }
  | { state: "unlisted" }
  | { state: "failed"; error: unknown };

/** The models `providerId` lists, asked again when it changes (an answer for another is dropped). */
function useProviderModels(providerId: string): Listing {
  const [listing, setListing] = useState<Listing>({ state: "loading" });
  useEffect(() => {
    let current = true;
    setListing({ state: "loading" });
    api.listProviderModels(providerId).then(
      (result) => {
        if (!current) return;
        setListing(
          result.listable ? { state: "listed", models: result.models } : { state: "unlisted" },
        );
      },
      (error: unknown) => {
        if (current) setListing({ state: "failed", error });
      },
    );
    return () => {
      current = false;
    };
  }, [providerId]);
  return listing;
}

function listingHint(listing: Listing): string {
  switch (listing.state) {
    case "loading":
      return "Asking the provider for its models…";
    case "listed":
      return listing.models.length > 0
        ? `The provider lists ${listing.models.length.toLocaleString("en-US")}: type to search them, or any other ID.`
        : "The provider's own model name (it listed none).";
    case "unlisted":
      return "The provider's own model name.";
    case "failed":
      return `The provider's own model name. Its model list failed: ${errorMessage(listing.error)}`;
  }
}

/**
 * The model ID field, offering the models the provider lists (a datalist: free text still
 * works, for a provider that cannot list or a model it does not list).
 */
export function ModelIdField({ providerId, model }: { providerId: string; model?: Model }) {
  const listing = useProviderModels(providerId);
  const listId = useId();
  const models = listing.state === "listed" ? listing.models : [];
  return (
    <>
      <Field label="Model ID" hint={listingHint(listing)}>
        <input
          name="model"
          required
          maxLength={200}
          placeholder="e.g. claude-sonnet-4-5"
          defaultValue={model?.model ?? ""}
          list={models.length > 0 ? listId : undefined}
          autoComplete="off"
        />
      </Field>
      {models.length > 0 ? (
        <datalist id={listId}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.display_name}
            </option>
          ))}
        </datalist>
      ) : null}
    </>
  );
}
