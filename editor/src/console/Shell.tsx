// The frame around every screen: navigation, the live indicator, the
// signed-in agent with their presence, sign-out.
import { useEffect, useState } from 'react';
import { NavLink, Outlet } from 'react-router';
import { useSession } from '../session';
import { useLiveState } from '../live';
import * as api from '../api';
import type { Me, Presence } from '../types';
import { errorText } from '../util';
import { useWaitingAlerts } from './alerts';

export function Shell() {
  const { state, signOut } = useSession();
  const me = state.status === 'signed-in' ? state.me : null;
  const liveState = useLiveState();
  const alerts = useWaitingAlerts();
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Switchboard</span>
        <nav aria-label="Console">
          <NavLink to="/queue">Queue</NavLink>
          <NavLink to="/analytics">Analytics</NavLink>
          <NavLink to="/settings">Settings</NavLink>
        </nav>
        <span className={`live live-${liveState}`} title="Live updates">
          {liveState === 'live' ? 'Live' : liveState === 'connecting' ? 'Connecting…' : 'Offline: reconnecting'}
        </span>
        {alerts.canAsk && <button type="button" className="linkish" onClick={alerts.ask}>Notify me</button>}
        {me && <Agent me={me} />}
        <button type="button" className="signout" onClick={() => void signOut()}>Sign out</button>
      </header>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}

function Agent({ me }: { me: Me }) {
  const [presence, setPresence] = useState<Presence>('offline');
  const [error, setError] = useState('');
  useEffect(() => {
    api.listPresence().then((r) => {
      const mine = (r.agents ?? []).find((a) => a.id === me.id);
      if (mine) setPresence(mine.presence);
    }, () => {});
  }, [me.id]);
  async function change(p: Presence) {
    const before = presence;
    setPresence(p);
    setError('');
    try {
      await api.setPresence(p);
    } catch (e) {
      setPresence(before);
      setError(e instanceof api.ApiError && e.missing ? 'Presence is not available on this server yet.' : errorText(e));
    }
  }
  return (
    <span className="agent">
      <span className={`dot dot-${presence}`} aria-hidden="true" />
      <span className="agent-name" title={`${me.email} (${me.role})`}>{me.name || me.email}</span>
      <select aria-label="Presence" value={presence} onChange={(e) => void change(e.target.value as Presence)}>
        <option value="online">Online</option>
        <option value="away">Away</option>
        <option value="offline">Offline</option>
      </select>
      {error && <span className="agent-error" role="alert">{error}</span>}
    </span>
  );
}
