/** The table of an admin or settings page: its column headers, its rows, or what to say when empty. */
import type { ReactNode } from "react";

export function RecordTable({
  columns,
  count,
  loading,
  empty,
  children,
}: {
  columns: string[];
  /** Rows there are; with none, `empty` is said instead (once loading is over). */
  count: number;
  loading: boolean;
  empty: string;
  children: ReactNode;
}) {
  if (count === 0) return loading ? null : <p>{empty}</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
