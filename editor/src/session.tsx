// The signed-in agent: who it is, sign-in and sign-out, for every screen.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import * as api from './api';
import { live } from './live';
import type { Me } from './types';

type State =
  | { status: 'loading' }
  | { status: 'signed-out'; reason?: string }
  | { status: 'error'; error: string }
  | { status: 'signed-in'; me: Me; fallback: boolean };

interface Session {
  state: State;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  retry(): void;
  setMe(me: Me): void;
}

const Ctx = createContext<Session | null>(null);
// Where the agent is kept when the server has no GET /me (yet).
const FALLBACK_KEY = 'sb_me';

function fallbackMe(): Me | null {
  try {
    const v = sessionStorage.getItem(FALLBACK_KEY);
    return v ? (JSON.parse(v) as Me) : null;
  } catch {
    return null;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    api.setUnauthorizedHandler(() => {
      sessionStorage.removeItem(FALLBACK_KEY);
      live.stop();
      setState({ status: 'signed-out', reason: 'Your session has ended: sign in again.' });
    });
    return () => api.setUnauthorizedHandler(null);
  }, []);

  useEffect(() => {
    let cancelled = false;
    api.getMe().then(
      (me) => !cancelled && setState({ status: 'signed-in', me, fallback: false }),
      (e: unknown) => {
        if (cancelled) return;
        const fb = fallbackMe();
        if (e instanceof api.ApiError && e.missing && fb) setState({ status: 'signed-in', me: fb, fallback: true });
        else if (e instanceof api.ApiError && (e.status === 401 || e.missing)) setState({ status: 'signed-out' });
        else setState({ status: 'error', error: e instanceof Error ? e.message : String(e) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  useEffect(() => {
    if (state.status === 'signed-in') live.start();
    else live.stop();
  }, [state.status]);

  const signIn = useCallback(async (email: string, password: string) => {
    const r = await api.login(email, password);
    // Signing in to the console is coming to work: online, so that
    // handovers are offered (the presence switch changes it).
    await api.setPresence('online').catch(() => undefined);
    try {
      const me = await api.getMe();
      sessionStorage.removeItem(FALLBACK_KEY);
      setState({ status: 'signed-in', me, fallback: false });
    } catch (e) {
      if (!(e instanceof api.ApiError && e.missing)) throw e;
      // No GET /me on this server yet: what the sign-in told us.
      const me: Me = r.account?.id ? r.account : { id: '', name: email, email, role: r.scopes?.[0] ?? 'agent' };
      sessionStorage.setItem(FALLBACK_KEY, JSON.stringify(me));
      setState({ status: 'signed-in', me, fallback: true });
    }
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      // Signed out here whatever the server said.
    }
    sessionStorage.removeItem(FALLBACK_KEY);
    live.stop();
    setState({ status: 'signed-out' });
  }, []);

  const value = useMemo<Session>(() => ({
    state,
    signIn,
    signOut,
    retry: () => {
      setState({ status: 'loading' });
      setAttempt((n) => n + 1);
    },
    setMe: (me) => setState((s) => (s.status === 'signed-in' ? { ...s, me } : s)),
  }), [state, signIn, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** useMe is the signed-in agent (inside the shell, where there is one). */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useMe without a signed-in agent');
  return state.me;
}
