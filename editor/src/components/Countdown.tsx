import { duration, ms, useNow } from '../util';

/** Countdown shows the time left until at, and that it has passed. */
export function Countdown({ label, at, passed = 'passed', warnBelow = 600, className = '' }: { label: string; at?: string | null; passed?: string; warnBelow?: number; className?: string }) {
  const now = useNow();
  const end = ms(at);
  if (end === null) return null;
  const left = (end - now) / 1000;
  const cls = left <= 0 ? 'over' : left < warnBelow ? 'warn' : '';
  return (
    <span className={`countdown ${cls} ${className}`} title={new Date(end).toLocaleString()}>
      {label}: {left <= 0 ? passed : duration(left)}
    </span>
  );
}
