// The lists the screens choose from: bots and teams.
import { useEffect, useState } from 'react';
import * as api from '../api';
import type { Bot, Team } from '../types';

/** useBots lists the running bots (the ones the agent sees); empty when they cannot be listed. */
export function useBots(): Bot[] {
  const [bots, setBots] = useState<Bot[]>([]);
  useEffect(() => {
    api.listBots().then((r) => setBots(r.bots ?? []), () => setBots([]));
  }, []);
  return bots;
}

/** useTeams lists the teams (the live-chat queues); empty when they cannot be listed. */
export function useTeams(): Team[] {
  const [teams, setTeams] = useState<Team[]>([]);
  useEffect(() => {
    api.listTeams().then((r) => setTeams(r.teams ?? []), () => setTeams([]));
  }, []);
  return teams;
}
