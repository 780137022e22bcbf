// The live event socket (/ws, subprotocol switchboard.v1): one per tab,
// shared by the screens, reconnecting with backoff. The session cookie
// authenticates it; on a server without cookie sessions the token goes as
// the offered subprotocol "bearer.<token>" (never in the URL).
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { bearerToken } from './api';
import type { LiveEvent } from './types';

export type LiveState = 'connecting' | 'live' | 'offline';

type Listener = (e: LiveEvent) => void;

class LiveSocket {
  private ws: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<() => void>();
  private attempt = 0;
  private timer: number | undefined;
  private running = false;
  state: LiveState = 'offline';

  start() {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop() {
    this.running = false;
    window.clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
    this.setState('offline');
  }

  private connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const protocols = ['switchboard.v1'];
    const tok = bearerToken();
    if (tok) protocols.push(`bearer.${tok}`);
    this.setState('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${proto}//${location.host}/ws`, protocols);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setState('live');
    };
    ws.onmessage = (m) => {
      let e: LiveEvent;
      try {
        e = JSON.parse(String(m.data));
      } catch {
        return;
      }
      for (const l of this.listeners) l(e);
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      if (this.running) this.retry();
    };
  }

  private retry() {
    this.setState('offline');
    // 0.5 s, 1 s, 2 s … up to 30 s, with jitter so that many consoles
    // do not come back at the same instant after a restart.
    const base = Math.min(30_000, 500 * 2 ** this.attempt++);
    this.timer = window.setTimeout(() => this.running && this.connect(), base / 2 + Math.random() * base / 2);
  }

  private setState(s: LiveState) {
    if (this.state === s) return;
    this.state = s;
    for (const l of this.stateListeners) l();
  }

  /** dispatch hands an event to the screens as if it came from the socket: a change this tab made. */
  dispatch(e: LiveEvent) {
    for (const l of this.listeners) l(e);
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  onState = (l: () => void): (() => void) => {
    this.stateListeners.add(l);
    return () => this.stateListeners.delete(l);
  };
}

export const live = new LiveSocket();

/** useLiveState is the socket's state, for an indicator. */
export function useLiveState(): LiveState {
  return useSyncExternalStore(live.onState, () => live.state);
}

/**
 * useReconnected calls f each time the socket becomes live while the
 * component is mounted: events from before (a gap while it was down, or
 * between a first fetch and the socket opening) were not seen, so what is
 * shown is fetched anew.
 */
export function useReconnected(f: () => void) {
  const ref = useRef(f);
  ref.current = f;
  useEffect(() => {
    let was = live.state;
    return live.onState(() => {
      if (live.state === 'live' && was !== 'live') ref.current();
      was = live.state;
    });
  }, []);
}

/** useLiveEvents calls f with each event while the component is mounted. */
export function useLiveEvents(f: Listener, deps: unknown[]) {
  useEffect(() => live.subscribe(f), deps); // eslint-disable-line react-hooks/exhaustive-deps
}
