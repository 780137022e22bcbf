// Desktop notifications for an agent who is in another tab: a new
// handover waiting, while the console is hidden (the queue highlights it
// and the tab title counts waiting ones otherwise).
import { useState } from 'react';
import { useLiveEvents } from '../live';
import { contactName } from './handover';

const supported = typeof window !== 'undefined' && 'Notification' in window;

export function useWaitingAlerts(): { canAsk: boolean; ask: () => void } {
  const [perm, setPerm] = useState(supported ? Notification.permission : 'denied');
  const [seen] = useState(() => new Set<string>());
  useLiveEvents((e) => {
    const h = e.handover;
    if (e.type !== 'handover' || !h || h.status !== 'new' || seen.has(h.id)) return;
    seen.add(h.id);
    if (perm === 'granted' && document.hidden) {
      const n = new Notification('A customer is waiting', { body: `${contactName(h)}${h.message ? `: ${h.message}` : ''}`, tag: h.id });
      n.onclick = () => {
        window.focus();
        n.close();
      };
    }
  }, [perm]);
  return {
    canAsk: supported && perm === 'default',
    ask: () => void Notification.requestPermission().then(setPerm),
  };
}
