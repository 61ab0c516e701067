import { InvalidArgumentError } from "commander";

/** Commander parser for a non-negative whole number of milliseconds. */
export function parseMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`"${value}" is not a whole number of milliseconds.`);
  }
  return n;
}

/** Like parseMs, but zero is refused (a zero silence timeout would abort every stream). */
export function parsePositiveMs(value: string): number {
  const n = parseMs(value);
  if (n === 0) throw new InvalidArgumentError("must be greater than 0.");
  return n;
}
