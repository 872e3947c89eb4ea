// Schema helpers shared by every module. Nullable fields are declared as JSON-schema type arrays
// (`["string","null"]`): jtel payloads carry explicit nulls, and type arrays keep the OpenAPI
// document and the serializer simple.
import { Type, type TSchema, type TUnsafe } from 'typebox';

type Json = Record<string, unknown>;

export const NullableInt = (opts: Json = {}): TUnsafe<number | null> => Type.Unsafe<number | null>({ type: ['integer', 'null'], ...opts });
export const NullableString = (opts: Json = {}): TUnsafe<string | null> => Type.Unsafe<string | null>({ type: ['string', 'null'], ...opts });
export const NullableBool = (opts: Json = {}): TUnsafe<boolean | null> => Type.Unsafe<boolean | null>({ type: ['boolean', 'null'], ...opts });

/** `YYYY-MM-DDTHH:mm:ss.SSS` in the client's time zone, no offset (jtel style). */
export const TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}$';

export const ErrorBody = Type.Object(
  {
    status: Type.Integer(),
    error: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'ErrorBody' },
);

/** `{records:[one], count:1, status:200}` */
export const SingleEnvelope = <T extends TSchema>(record: T) =>
  Type.Object({ records: Type.Array(record), count: Type.Integer(), status: Type.Integer() });

/** jtel's list envelope; `records` streams, so the fields come in this order on the wire. */
export const ListEnvelope = <T extends TSchema>(record: T) =>
  Type.Object({
    filter: Type.String(),
    limitStart: Type.Integer(),
    limitPageSize: Type.Integer(),
    records: Type.Array(record),
    count: Type.Integer(),
    orderBy: Type.String(),
    ascending: Type.Boolean(),
    status: Type.Integer(),
  });

export const StatusOnly = Type.Object({ status: Type.Integer() });

export const IdParam = (name: string) =>
  Type.Object({ [name]: Type.Integer({ minimum: 1, maximum: 2147483647 }) }, { additionalProperties: false });

/**
 * Path parameters of a route under `/rest/v1.0/{ClientsID}`: the prefix's ClientsID (already
 * checked by the auth hook) plus the route's own ids.
 */
export const ClientScopedParams = (...names: string[]) =>
  Type.Object(
    Object.fromEntries(['ClientsID', ...names].map((n) => [n, Type.Integer({ minimum: 1, maximum: 2147483647 })])),
    { additionalProperties: false },
  );

/**
 * Responses every route can give besides 200. The hooks around a route add theirs to the document
 * (403, 413, 415, 429: src/http/openapi-document.ts; 409 and 422 for an Idempotency-Key).
 */
export const commonErrors = {
  400: Type.Ref('ErrorBody'),
  401: Type.Ref('ErrorBody'),
  404: Type.Ref('ErrorBody'),
};

/** 409, for the routes whose service can answer it (a name taken, a state that forbids the change). */
export const conflict = { 409: Type.Ref('ErrorBody') };
