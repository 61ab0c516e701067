/** "Your spend" on the user's settings page: the meter of this period (`SpendMeter`). */
import { SpendMeter } from "./SpendMeter.tsx";
import { useSpend } from "./useSpend.ts";

export function SpendCard() {
  const { spend } = useSpend();
  if (!spend) return null;
  return (
    <section className="card settings-form" aria-labelledby="spend-title">
      <h2 id="spend-title">Your spend</h2>
      <SpendMeter spend={spend} />
    </section>
  );
}
