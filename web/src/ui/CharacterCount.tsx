/** "1,234 / 20,000 characters" under a text field, red once over the server's limit. */
export function CharacterCount({ length, limit }: { length: number; limit: number }) {
  return (
    <p className={length > limit ? "char-count over" : "char-count muted"} aria-live="polite">
      {length.toLocaleString("en")} / {limit.toLocaleString("en")} characters
    </p>
  );
}
