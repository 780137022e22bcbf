// Routes of the web UI. The console lives under /console/ (the server
// answers index.html for every app route); the bot editor joins later.
import { Navigate, Route, Routes } from 'react-router';
import { useSession } from './session';
import { Login } from './console/Login';
import { Shell } from './console/Shell';
import { QueuePage } from './console/Queue';
import { Conversation } from './console/Conversation';
import { AnalyticsPage } from './console/Analytics';
import { SettingsPage } from './console/Settings';
import { Notice } from './components/Notice';

export function App() {
  const { state, retry } = useSession();
  switch (state.status) {
    case 'loading':
      return <div className="splash" aria-busy="true">Loading…</div>;
    case 'error':
      return (
        <div className="splash">
          <Notice kind="error">The console cannot start: {state.error}</Notice>
          <button type="button" onClick={retry}>Try again</button>
        </div>
      );
    case 'signed-out':
      return <Login reason={state.reason} />;
  }
  return (
    <Routes>
      <Route element={<Shell />}>
        <Route index element={<Navigate to="/queue" replace />} />
        <Route path="login" element={<Navigate to="/queue" replace />} />
        <Route path="queue" element={<QueuePage />}>
          <Route path=":id" element={<Conversation />} />
        </Route>
        <Route path="analytics" element={<AnalyticsPage />} />
        <Route path="settings" element={<SettingsPage />} />
        <Route path="*" element={<Notice kind="error">There is no such page in the console.</Notice>} />
      </Route>
    </Routes>
  );
}
