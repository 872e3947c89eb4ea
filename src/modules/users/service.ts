// User (agent) provisioning. Changes run in a transaction holding the user's row lock, so a
// deletion cannot race an event being addressed to the user.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ClientContext } from '../../http/auth.ts';
import type { Clock } from '../../domain/clock.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AlreadyExists, UserNotFound } from '../../errors.ts';
import * as repo from './repository.ts';
import { lockState } from '../agents/repository.ts';
import { releaseDepartingAgent } from '../work/repository.ts';
import { API_ACTOR } from '../events/service.ts';
import type { UserInput } from './schemas.ts';

type Db = Kysely<Database>;

/** Runs `work`; a UID race that slipped past the check still answers 409. */
async function guardUid<T>(uid: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (uid !== undefined && isUniqueViolation(error)) throw new AlreadyExists('User', uid);
    throw error;
  }
}

export async function getUser(db: Db, client: ClientContext, userId: number): Promise<string[]> {
  const texts = await repo.userTexts(db, client.id, client.timeZone, userId);
  if (texts.length === 0) throw new UserNotFound(userId);
  return texts;
}

export async function createUser(db: Db, clock: Clock, client: ClientContext, input: UserInput & { UID: string }): Promise<string[]> {
  const id = await guardUid(input.UID, async () => {
    if (await repo.uidTaken(db, client.id, input.UID)) throw new AlreadyExists('User', input.UID);
    return repo.insertUser(db, client.id, input, new Date(clock.now()));
  });
  return repo.userTexts(db, client.id, client.timeZone, id);
}

export async function updateUser(db: Db, clock: Clock, client: ClientContext, userId: number, input: UserInput): Promise<string[]> {
  await guardUid(input.UID, () => db.transaction().execute(async (trx) => {
    const current = await repo.lockUser(trx, client.id, userId, 'update');
    if (!current) throw new UserNotFound(userId);
    if (input.UID !== undefined && input.UID !== current.uid && (await repo.uidTaken(trx, client.id, input.UID, userId))) {
      throw new AlreadyExists('User', input.UID);
    }
    await repo.updateUser(trx, client.id, userId, input, new Date(clock.now()));
  }));
  return repo.userTexts(db, client.id, client.timeZone, userId);
}

/**
 * Deletes the user with their memberships and agent state. Their open work is not lost: events
 * reserved for them become Error (the reason says why; a supervisor can reassign them), events
 * they held go back to their queues.
 */
export async function deleteUser(db: Db, clock: Clock, client: ClientContext, userId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await repo.lockUser(trx, client.id, userId, 'update'))) throw new UserNotFound(userId);
    // The agent's state lock: no dispatcher can offer them anything from here to the delete.
    await lockState(trx, userId);
    await releaseDepartingAgent(trx, userId, new Date(clock.now()), API_ACTOR, 'was deleted');
    await repo.deleteUser(trx, client.id, userId);
  });
}
