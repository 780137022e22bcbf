/** StatusBadge shows a handover's status (new, assigned, chatting, pending, overdue, resolved, closed). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}
