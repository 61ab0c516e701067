/** The usage page's tables: the totals as cards, the top users and the top chats. */
import { Link } from "../../router.tsx";
import type { UsageRow, UsageTotals } from "./api.ts";
import { formatCompact, formatCount, formatUsd } from "./format.ts";

export function TotalsCards({ totals }: { totals: UsageTotals }) {
  const cards: Array<[string, string, string | null]> = [
    [
      "Cost",
      formatUsd(totals.cost_usd),
      totals.unpriced_messages > 0
        ? `${formatCount(totals.unpriced_messages)} steps unpriced`
        : null,
    ],
    [
      "Input tokens",
      formatCompact(totals.input_tokens),
      totals.cached_input_tokens > 0 ? `${formatCompact(totals.cached_input_tokens)} cached` : null,
    ],
    [
      "Output tokens",
      formatCompact(totals.output_tokens),
      totals.reasoning_tokens > 0 ? `${formatCompact(totals.reasoning_tokens)} reasoning` : null,
    ],
    ["Model steps", formatCount(totals.messages), null],
    ["Chats", formatCount(totals.chats), null],
  ];
  return (
    <dl className="usage-totals">
      {cards.map(([label, value, note]) => (
        <div key={label} className="usage-total">
          <dt>{label}</dt>
          <dd>
            <span className="usage-total-value">{value}</span>
            {note ? <span className="usage-total-note">{note}</span> : null}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Figures({ row }: { row: UsageRow }) {
  return (
    <>
      <td className="num" data-label="Cost">
        {formatUsd(row.cost_usd)}
      </td>
      <td className="num" data-label="Input">
        {formatCompact(row.input_tokens)}
      </td>
      <td className="num" data-label="Output">
        {formatCompact(row.output_tokens)}
      </td>
      <td className="num" data-label="Steps">
        {formatCount(row.messages)}
      </td>
    </>
  );
}

const FIGURE_HEADS = (
  <>
    <th scope="col" className="num">
      Cost
    </th>
    <th scope="col" className="num">
      Input
    </th>
    <th scope="col" className="num">
      Output
    </th>
    <th scope="col" className="num">
      Steps
    </th>
  </>
);

export function TopUsers({ rows }: { rows: UsageRow[] }) {
  return (
    <section className="usage-section" aria-labelledby="usage-top-users">
      <h2 id="usage-top-users">Top users</h2>
      {rows.length === 0 ? (
        <p className="muted">No usage in this period.</p>
      ) : (
        <div className="table-wrap">
          <table className="usage-table">
            <thead>
              <tr>
                <th scope="col">User</th>
                {FIGURE_HEADS}
                <th scope="col" className="num">
                  Chats
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.key ?? ""}>
                  <th scope="row">{row.name}</th>
                  <Figures row={row} />
                  <td className="num" data-label="Chats">
                    {formatCount(row.chats)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function TopChats({ rows }: { rows: UsageRow[] }) {
  return (
    <section className="usage-section" aria-labelledby="usage-top-chats">
      <h2 id="usage-top-chats">Top chats</h2>
      {rows.length === 0 ? (
        <p className="muted">No usage in this period.</p>
      ) : (
        <div className="table-wrap">
          <table className="usage-table">
            <thead>
              <tr>
                <th scope="col">Chat</th>
                <th scope="col">Owner</th>
                {FIGURE_HEADS}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.key ?? ""}>
                  <th scope="row" className="usage-chat-title">
                    {row.key ? (
                      <Link to={`/chats/${encodeURIComponent(row.key)}`}>{row.name}</Link>
                    ) : (
                      row.name
                    )}
                  </th>
                  <td data-label="Owner">{row.owner_name}</td>
                  <Figures row={row} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
