// The command line's help texts: `switchboard --help`, `switchboard <command> --help`.

export const USAGE = `Usage: switchboard <command> [options]

Commands:
  serve [--demo]                       start the API server (--demo seeds a demo on an empty store)
  migrate                              apply pending database migrations
  clients create --name NAME [--time-zone ZONE]
                                       create a client account; prints its ClientsID and token
  clients token CLIENTS_ID             make a new token for a client (the old one stops working)
  contacts import FILE --campaign NAME [--client ID] [--format csv|semicolon|ndjson] [--overwrite] [--reset]
                                       import a file of dialler contacts into a campaign

Options:
  -h, --help                           show this help; \`switchboard <command> --help\` for one command
  -v, --version                        show the version

Environment: PORT, HOST, DATABASE_URL (postgres://… selects PostgreSQL), SWITCHBOARD_DATA_DIR,
SWITCHBOARD_ADMIN_TOKEN, LOG_LEVEL and more (see the README's Configuration).`;

const EMBEDDED = `On the embedded store the data folder belongs to one process at a time. While a server runs on
it, \`clients create\`, \`clients token\` and \`contacts import\` ask that server (through the lock file it keeps in the
folder) and \`migrate\` reports what the server applied; any other second process stops with the
holder's pid.`;

export const COMMAND_HELP: Record<string, string> = {
  contacts: `Usage: switchboard contacts import FILE --campaign NAME [--client ID] [--format csv|semicolon|ndjson]
                                   [--overwrite] [--reset]

Imports a file of dialler contacts into the campaign NAME (exact name) of client ID (needed when
there are several clients), as POST …/dialler/contacts/import/bulk does: every row is checked as
a single import is, rows are written 1000 at a time.

  --format     csv (comma, header row of jtel field names), semicolon (jtel's legacy format:
               the same with ";"), ndjson (one JSON object per line); default from the file's
               extension (.ndjson, .jsonl: ndjson; else csv)
  --overwrite  a row whose UserData a contact of the campaign has overwrites that contact
  --reset      with --overwrite: the overwritten contact starts over (tries, results,
               follow-ups cleared); a contact in progress is refused

Progress goes to stderr (a bar on a terminal, else a line per 10 %); the report (Rows,
Imported, Overwritten, Rejected, Errors with row, field and reason, DoNotCall) to stdout as JSON.
Exit status 0 when every row was imported, 1 when rows were refused or the import failed.

${EMBEDDED}`,

  serve: `Usage: switchboard serve [--demo]

Starts the API server and the distribution engine: takes the data folder (embedded store), applies
pending migrations, listens on HOST:PORT, prints the URL and, on first start, the admin token.
SIGTERM or SIGINT drain and stop it.

Options:
  --demo       on an empty store, provision a demo client with groups, agents, events and a
               campaign, and print its tokens and curl commands (\`npm start\` is \`serve --demo\`)

Environment: PORT (8080), HOST (0.0.0.0), DATABASE_URL, SWITCHBOARD_DATA_DIR (./data),
SWITCHBOARD_ADMIN_TOKEN, LOG_LEVEL (info) and more (see the README's Configuration).`,

  migrate: `Usage: switchboard migrate

Applies pending database migrations and lists them (\`serve\` also does this at every start).
Environment: DATABASE_URL or SWITCHBOARD_DATA_DIR name the store.

${EMBEDDED}`,

  clients: `Usage: switchboard clients create --name NAME [--time-zone ZONE]
       switchboard clients token CLIENTS_ID

create   creates a client account (tenant); prints its ClientsID and first token. ZONE is an
         IANA time zone (default Europe/Berlin).
token    makes a new token for the client; the previous one stops working at once.
Tokens are stored only as hashes: this is the one time they are shown.
Environment: DATABASE_URL or SWITCHBOARD_DATA_DIR name the store.

${EMBEDDED}`,
};
