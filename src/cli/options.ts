import { InvalidArgumentError } from "commander";

/** Commander parser for a whole number ≥ 0 (milliseconds, counts). */
export function parseWholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`"${value}" is not a whole number.`);
  }
  return n;
}

/** Like parseWholeNumber, but zero is refused (a zero timeout would abort every stream). */
export function parsePositiveNumber(value: string): number {
  const n = parseWholeNumber(value);
  if (n === 0) throw new InvalidArgumentError("must be greater than 0.");
  return n;
}
