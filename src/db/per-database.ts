// Process-wide things kept once per store (a Kysely instance): batchers, small caches.

/** `make(db)` once per Kysely instance, then the same value for it. */
export function perDatabase<D extends object, T>(make: (db: D) => T): (db: D) => T {
  const made = new WeakMap<D, T>();
  return (db) => {
    let value = made.get(db);
    if (value === undefined) made.set(db, (value = make(db)));
    return value;
  };
}
