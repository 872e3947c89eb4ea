// The do-not-call list's record (spec §8.2): one entry per number or prefix of a client.
import { defineRecord, field } from '../../http/records.ts';

export const DoNotCallRecord = defineRecord(
  'DiallerDoNotCall',
  {
    ID: field.int('d.id'),
    Number: field.text('d.number', { description: 'a normalised number, or with bPrefix the digits every blocked number starts with' }),
    bPrefix: field.bool('d.b_prefix'),
    dtExpires: field.timestamp('d.expires_at', { nullable: true, description: 'from then on the entry no longer blocks; null: never' }),
    Reason: field.text('d.reason', { nullable: true }),
    dtCreated: field.timestamp('d.created_at'),
  },
  { from: 'dialler_do_not_call d', clientColumn: 'd.client_id', idColumn: 'd.id', defaultOrderBy: 'Number' },
);
