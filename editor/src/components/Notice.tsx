import type { ReactNode } from 'react';
import { ApiError } from '../api';
import { errorText } from '../util';

/** Notice is a message in a coloured box: error, info or warning. */
export function Notice({ kind = 'info', children }: { kind?: 'info' | 'error' | 'warn'; children: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

/** ErrorNotice explains a failed request; an endpoint the server does not have yet says so. */
export function ErrorNotice({ error, what }: { error: unknown; what: string }) {
  if (!error) return null;
  if (error instanceof ApiError && error.missing) {
    return (
      <Notice kind="warn">
        <span className="unavailable">{what}: not available on this server yet.</span>
      </Notice>
    );
  }
  return <Notice kind="error">{what}: {errorText(error)}</Notice>;
}
