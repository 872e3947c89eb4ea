// A client account with groups and agents, set up through the API as an integrator would.
import { expectRecord, type Api } from './api.ts';

export interface AgentCredentials {
  userId: number;
  uid: string;
  token: string;
  groups: number[];
}

export interface Tenant {
  clientId: number;
  token: string;
  /** `/rest/v1.0/{ClientsID}` */
  base: string;
  groupIds: number[];
  agents: AgentCredentials[];
}

export interface ProvisionOptions {
  name: string;
  timeZone: string;
  groups: number;
  agents: number;
  /** The groups agent i joins (indexes into the group list). */
  groupsOf(agentIndex: number): number[];
  groupFields?: Record<string, unknown>;
  /** Parallel requests while provisioning agents (password hashing is the slow part). */
  concurrency?: number;
}

const PASSWORD = 'bench horse battery staple';

export async function provision(apis: Api[], adminToken: string, o: ProvisionOptions): Promise<Tenant> {
  const admin = apis[0];
  const client = await expectRecord(admin.call('POST', '/rest/v1.0/clients/create', adminToken, { Name: o.name, TimeZone: o.timeZone }), 'create client');
  const base = `/rest/v1.0/${client.ClientsID}`;
  const token: string = client.Token;
  const groupIds: number[] = [];
  for (let g = 0; g < o.groups; g++) {
    const group = await expectRecord(admin.call('POST', `${base}/acd/groups/create`, token, { Name: `Bench queue ${g + 1}`, ...o.groupFields }), 'create group');
    groupIds.push(group.ID);
  }
  const agents: AgentCredentials[] = new Array(o.agents);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < o.agents; i = next++) {
      const api = apis[i % apis.length];
      const uid = `agent${String(i + 1).padStart(3, '0')}`;
      const user = await expectRecord(api.call('POST', `${base}/users/create`, token, { UID: uid, FirstName: 'Bench', LastName: `Agent ${i + 1}` }), 'create user');
      const groups = o.groupsOf(i).map((g) => groupIds[g]);
      for (const g of groups) {
        const r = await api.call('PUT', `${base}/acd/groups/group/${g}/members/${user.ID}`, token, { Skills: {} });
        if (r.status !== 200) throw new Error(`add member: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      }
      const set = await api.call('PUT', `${base}/users/user/${user.ID}/password`, token, { Password: PASSWORD });
      if (set.status !== 200) throw new Error(`set password: HTTP ${set.status} ${JSON.stringify(set.body)}`);
      const session = await expectRecord(api.call('POST', `${base}/agents/login`, undefined, { UID: uid, Password: PASSWORD }), 'agent login');
      await expectRecord(api.call('POST', `${base}/agents/me/acd/login`, session.Token), 'ACD login');
      for (const g of groups) await expectRecord(api.call('POST', `${base}/agents/me/groups/${g}/login`, session.Token), 'group login');
      agents[i] = { userId: user.ID, uid, token: session.Token, groups };
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 4 }, worker));
  return { clientId: client.ClientsID, token, base, groupIds, agents };
}
